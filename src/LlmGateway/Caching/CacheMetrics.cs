using System.Diagnostics.Metrics;
using LlmGateway.Telemetry;

namespace LlmGateway.Caching;

/// <summary>
/// The cache's own instruments. Hit rates come from <c>llmgateway.requests</c> (labelled by cache result) and saved
/// dollars from <c>llmgateway.cache.saved_cost</c>, both recorded with the request's usage record.
/// </summary>
public sealed class CacheMetrics
{
    private readonly Counter<long> _errors;

    public CacheMetrics(GatewayTelemetry telemetry)
    {
        _errors = telemetry.Meter.CreateCounter<long>("llmgateway.cache.errors", "{error}",
            "Cache operations that failed and were bypassed, by operation (lookup, store, embed).");
    }

    public void Error(string operation)
    {
        if (_errors.Enabled)
        {
            _errors.Add(1, new KeyValuePair<string, object?>("llm_gateway.cache.operation", operation));
        }
    }
}
