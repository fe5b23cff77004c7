using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LlmGateway.Telemetry;

/// <summary>
/// Owns the OpenTelemetry tracer and meter providers for the host's lifetime. The framework's own sources and
/// meters (ASP.NET Core, HttpClient, YARP) stand in for the instrumentation packages that are not available.
/// </summary>
internal sealed class TelemetryProviders(IOptions<TelemetryOptions> options, PrometheusScraper scraper) : IHostedService, IDisposable
{
    private static readonly string[] Sources = [GatewayTelemetry.Name, "Microsoft.AspNetCore", "System.Net.Http"];

    private const string ProxySource = "Yarp.ReverseProxy";

    // "System.Runtime": the runtime's own meter (GC heap and pauses, working set, thread pool). Its instruments are
    // observed only when a reader collects, so they cost nothing per request.
    private static readonly string[] Meters =
        [GatewayTelemetry.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime"];

    // The runtime's instruments whose Prometheus names would end in "_count", which Prometheus keeps for histograms
    // (promtool's lint refuses them). They say little about a gateway: how many assemblies, CPUs and timers there are.
    private static readonly string[] DroppedRuntimeInstruments = ["dotnet.assembly.count", "dotnet.process.cpu.count", "dotnet.timer.count"];

    private TracerProvider? _tracerProvider;
    private MeterProvider? _meterProvider;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var resource = ResourceBuilder.CreateDefault().AddService(settings.ServiceName);

        var tracing = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(Sources);
        if (settings.ProxySpans)
        {
            tracing.AddSource(ProxySource);
        }

        var metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(Meters);
        foreach (var instrument in DroppedRuntimeInstruments)
        {
            metrics.AddView(instrument, MetricStreamConfiguration.Drop);
        }

        if (settings.PrometheusEnabled)
        {
            metrics.AddReader(scraper.Reader);
        }

        if (!string.IsNullOrEmpty(settings.OtlpEndpoint))
        {
            tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(settings.TraceSampleRatio)));
            tracing.AddOtlpExporter(otlp =>
            {
                Configure(otlp, settings, "v1/traces");
                otlp.BatchExportProcessorOptions.MaxExportBatchSize = settings.TraceExportBatchSize;
            });
            metrics.AddOtlpExporter(otlp => Configure(otlp, settings, "v1/metrics"));
        }
        else
        {
            // Nothing would export the spans, so none is recorded. The SDK still creates each request's root activity
            // for propagation only (ids, no attributes): the traceparent response header and the logs keep a trace id.
            tracing.SetSampler(new AlwaysOffSampler());
        }

        _tracerProvider = tracing.Build();
        _meterProvider = metrics.Build();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _tracerProvider?.ForceFlush(5_000);
        _meterProvider?.ForceFlush(5_000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _tracerProvider?.Dispose();
        _meterProvider?.Dispose();
    }

    /// <summary>
    /// Over HTTP each signal has its own path under the collector's base URL; the exporter uses an endpoint set in code
    /// as it is, so the path is added here (as the exporter itself does for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).
    /// </summary>
    internal static void Configure(OtlpExporterOptions otlp, TelemetryOptions settings, string signalPath)
    {
        var endpoint = new Uri(settings.OtlpEndpoint!);
        otlp.Protocol = settings.OtlpProtocol;
        otlp.Endpoint = settings.OtlpProtocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : endpoint;
    }
}
