using System.Globalization;

namespace LlmGateway.Metering;

/// <summary>The response headers that tell a client what its request used and cost (on JSON responses).</summary>
public static class MeteringHeaders
{
    public const string CostUsd = "x-gateway-cost-usd";
    public const string PromptTokens = "x-gateway-prompt-tokens";
    public const string CompletionTokens = "x-gateway-completion-tokens";
    public const string CachedPromptTokens = "x-gateway-cached-prompt-tokens";
    public const string ReasoningTokens = "x-gateway-reasoning-tokens";

    /// <summary>On an answer served from the cache: what the upstream would have charged for it (the cost itself is 0).</summary>
    public const string SavedUsd = "x-gateway-cache-saved-usd";

    /// <summary>The value of <see cref="CostUsd"/> for a model without a price.</summary>
    public const string Unpriced = "unpriced";

    public static void Write(HttpResponse response, TokenUsage usage, ModelPrice? price, bool servedFromCache = false)
    {
        if (response.HasStarted)
        {
            return;
        }

        var headers = response.Headers;
        headers[CostUsd] = price is null ? Unpriced : servedFromCache ? "0" : FormatUsd(price.CostOf(usage));
        if (servedFromCache && price is not null)
        {
            headers[SavedUsd] = FormatUsd(price.CostOf(usage));
        }

        headers[PromptTokens] = usage.PromptTokens.ToString(CultureInfo.InvariantCulture);
        headers[CompletionTokens] = usage.CompletionTokens.ToString(CultureInfo.InvariantCulture);
        headers[CachedPromptTokens] = usage.CachedPromptTokens.ToString(CultureInfo.InvariantCulture);
        headers[ReasoningTokens] = usage.ReasoningTokens.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>USD with up to twelve decimals (one picodollar), no trailing zeros, invariant culture.</summary>
    public static string FormatUsd(decimal usd) => usd.ToString("0.############", CultureInfo.InvariantCulture);
}
