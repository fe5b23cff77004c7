using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using LlmGateway.Metering;
using LlmGateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace LlmGateway.Benchmarks;

/// <summary>
/// The metric updates a metered request makes in the gateway's own instruments: <see cref="RequestTelemetry.Record"/>
/// (GenAI histograms, request and cost counters) and <see cref="MeteringMetrics.Record"/> (token and cost counters),
/// with the log line filtered out. <c>Readers</c> is how many OpenTelemetry metric readers aggregate them: 0 (no
/// listener), 1 (Prometheus only, the embedded default) or 2 (Prometheus and OTLP, the full-pipeline benchmark). The
/// readers export to nothing; what is measured is the aggregation on the request's thread.
/// </summary>
[MemoryDiagnoser]
public class RequestMetricsBenchmarks
{
    private static readonly UsageRecord Record = UsageRecords.Chat;

    private ServiceProvider? _meters;
    private MeterProvider? _provider;
    private RequestTelemetry? _telemetry;
    private MeteringMetrics? _metering;

    [Params(0, 1, 2)]
    public int Readers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var telemetry = new GatewayTelemetry(_meters.GetRequiredService<IMeterFactory>());
        _telemetry = new RequestTelemetry(telemetry, new RequestLog(Serilog.Core.Logger.None, TimeProvider.System));
        _metering = new MeteringMetrics(telemetry);
        if (Readers > 0)
        {
            var builder = Sdk.CreateMeterProviderBuilder().AddMeter(GatewayTelemetry.Name);
            for (var i = 0; i < Readers; i++)
            {
                builder.AddReader(new BaseExportingMetricReader(new DiscardingExporter()));
            }

            _provider = builder.Build();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider?.Dispose();
        _meters?.Dispose();
    }

    [Benchmark]
    public void RecordRequest()
    {
        _telemetry!.Record(Record, serverSpan: null);
        _metering!.Record(Record);
    }

    private sealed class DiscardingExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
