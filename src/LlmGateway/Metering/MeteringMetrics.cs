using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlmGateway.Telemetry;

namespace LlmGateway.Metering;

/// <summary>Metering's instruments, on the gateway's one meter. Tags are built only when an instrument is listened to.</summary>
public sealed class MeteringMetrics
{
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _unpriced;
    private readonly Counter<long> _estimated;
    private readonly Counter<double> _saved;

    public MeteringMetrics(GatewayTelemetry telemetry)
    {
        var meter = telemetry.Meter;
        _tokens = meter.CreateCounter<long>("llmgateway.usage.tokens", "{token}", "Tokens used, by token type (prompt, completion, cached_prompt, reasoning), model and provider.");
        _cost = meter.CreateCounter<double>("llmgateway.usage.cost", "USD", "Cost of metered requests at list price, by model and provider.");
        _unpriced = meter.CreateCounter<long>("llmgateway.usage.unpriced_requests", "{request}", "Requests for models without a price: tokens counted, money not.");
        _estimated = meter.CreateCounter<long>("llmgateway.usage.estimated_requests", "{request}", "Requests whose usage the upstream did not report and the gateway estimated.");
        _saved = meter.CreateCounter<double>("llmgateway.cache.saved_cost", "USD",
            "What answers served from the cache would have cost upstream at list price, by model, team, key id and cache result (hit, semantic-hit).");
    }

    public void Record(UsageRecord record)
    {
        if (_tokens.Enabled)
        {
            AddTokens(record, "prompt", record.Usage.PromptTokens);
            AddTokens(record, "completion", record.Usage.CompletionTokens);
            AddTokens(record, "cached_prompt", record.Usage.CachedPromptTokens);
            AddTokens(record, "reasoning", record.Usage.ReasoningTokens);
        }

        if (_cost.Enabled && record.Priced)
        {
            _cost.Add((double)record.CostUsd, new("gen_ai.request.model", record.Model), new("gen_ai.provider.name", record.Provider));
        }

        if (_saved.Enabled && record.SavedCostUsd > 0)
        {
            _saved.Add((double)record.SavedCostUsd, new TagList
            {
                { "gen_ai.request.model", record.Model },
                { "llm_gateway.team", record.Team ?? "" },
                { "llm_gateway.key_id", record.KeyId },
                { "llm_gateway.cache.result", record.CacheResult },
            });
        }

        if (_unpriced.Enabled && !record.Priced)
        {
            _unpriced.Add(1, new KeyValuePair<string, object?>("gen_ai.request.model", record.Model));
        }

        if (_estimated.Enabled && record.Estimated)
        {
            _estimated.Add(1, new KeyValuePair<string, object?>("gen_ai.request.model", record.Model));
        }
    }

    private void AddTokens(UsageRecord record, string type, long count)
    {
        if (count > 0)
        {
            _tokens.Add(count, new("gen_ai.token.type", type), new("gen_ai.request.model", record.Model), new("gen_ai.provider.name", record.Provider));
        }
    }
}
