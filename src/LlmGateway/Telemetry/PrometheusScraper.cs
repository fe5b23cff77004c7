using OpenTelemetry.Metrics;

namespace LlmGateway.Telemetry;

/// <summary>Collects the gateway's metrics on demand, one scrape at a time, and returns the Prometheus text.</summary>
internal sealed class PrometheusScraper : IDisposable
{
    private readonly PrometheusTextExporter _exporter = new();
    private readonly Lock _lock = new();

    public PrometheusScraper()
    {
        Reader = new BaseExportingMetricReader(_exporter);
    }

    public MetricReader Reader { get; }

    public string Scrape()
    {
        lock (_lock)
        {
            return Reader.Collect(timeoutMilliseconds: 5_000) ? _exporter.LastScrape : "";
        }
    }

    public void Dispose()
    {
        Reader.Dispose();
        _exporter.Dispose();
    }
}
