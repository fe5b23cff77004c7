using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;

namespace LlmGateway.Telemetry;

/// <summary>Where traces and metrics go, bound from <c>Gateway:Telemetry</c>.</summary>
public sealed record TelemetryOptions
{
    public const string SectionName = "Gateway:Telemetry";

    /// <summary>The <c>service.name</c> resource attribute on every span and metric.</summary>
    public string ServiceName { get; init; } = "llmgateway";

    /// <summary>Serve the Prometheus text format at <see cref="PrometheusPath"/>.</summary>
    public bool PrometheusEnabled { get; init; } = true;

    public string PrometheusPath { get; init; } = "/metrics";

    /// <summary>An OTLP collector to push traces and metrics to; none when empty.</summary>
    public string? OtlpEndpoint { get; init; }

    public OtlpExportProtocol OtlpProtocol { get; init; } = OtlpExportProtocol.Grpc;

    /// <summary>
    /// The share of new traces recorded and exported when <see cref="OtlpEndpoint"/> is set; a request that arrives
    /// with a sampled parent is recorded whatever this says. Without an endpoint no span is recorded.
    /// </summary>
    public double TraceSampleRatio { get; init; } = 1.0;

    /// <summary>
    /// Also record YARP's <c>proxy.forwarder</c> span between the server span and the attempt spans. Off by default: it
    /// covers the same time as the server span and names only YARP's route and cluster, which are the gateway's own;
    /// leaving it out saves one span per request in every export.
    /// </summary>
    public bool ProxySpans { get; init; }

    /// <summary>
    /// The most spans one OTLP trace export carries; the exporter sends a batch as soon as this many have ended (and
    /// every 5 s otherwise). A trade between tail latency and cost per request, measured in docs/benchmarks.md: spans
    /// wait in memory until they are sent, and under load the ones waiting at a garbage collection survive it, which
    /// lengthens the pause (batches of 128 instead of 512: about 240 instead of 580 KiB promoted per collection, pauses
    /// about a quarter shorter), but smaller batches mean more exports, which made the full pipeline slower at one
    /// connection (5–90 µs of p50, in each of five rounds). The default is OpenTelemetry's 512. Takes the place of
    /// <c>OTEL_BSP_MAX_EXPORT_BATCH_SIZE</c>.
    /// </summary>
    public int TraceExportBatchSize { get; init; } = 512;

    /// <summary>How many ended spans may wait for export: OpenTelemetry's default queue, which the gateway keeps.</summary>
    public const int TraceExportQueueSize = 2048;

    /// <summary>How old the budget gauges' values may get before a scrape has them read again from the budget store.</summary>
    public TimeSpan BudgetRefreshInterval { get; init; } = TimeSpan.FromSeconds(10);
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ServiceName))
        {
            errors.Add($"{TelemetryOptions.SectionName}:ServiceName must not be empty.");
        }

        if (options.PrometheusEnabled && !options.PrometheusPath.StartsWith('/'))
        {
            errors.Add($"{TelemetryOptions.SectionName}:PrometheusPath must start with '/' (got '{options.PrometheusPath}').");
        }

        if (!string.IsNullOrEmpty(options.OtlpEndpoint) && !Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out _))
        {
            errors.Add($"{TelemetryOptions.SectionName}:OtlpEndpoint must be an absolute URL (got '{options.OtlpEndpoint}').");
        }

        if (!(options.TraceSampleRatio is >= 0 and <= 1))
        {
            errors.Add($"{TelemetryOptions.SectionName}:TraceSampleRatio must be between 0 and 1 (got {options.TraceSampleRatio.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
        }

        if (options.TraceExportBatchSize is < 1 or > TelemetryOptions.TraceExportQueueSize)
        {
            errors.Add($"{TelemetryOptions.SectionName}:TraceExportBatchSize must be between 1 and {TelemetryOptions.TraceExportQueueSize} (got {options.TraceExportBatchSize}).");
        }

        if (options.BudgetRefreshInterval <= TimeSpan.Zero)
        {
            errors.Add($"{TelemetryOptions.SectionName}:BudgetRefreshInterval must be positive (got '{options.BudgetRefreshInterval}').");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
