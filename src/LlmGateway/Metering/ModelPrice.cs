namespace LlmGateway.Metering;

/// <summary>A model's list price in USD per million tokens.</summary>
public sealed record ModelPrice
{
    public decimal Input { get; init; }

    /// <summary>Price of prompt tokens served from the provider's prompt cache; defaults to <see cref="Input"/>.</summary>
    public decimal? CachedInput { get; init; }

    public decimal Output { get; init; }

    private const decimal TokensPerUnit = 1_000_000m;

    /// <summary>The cost of <paramref name="usage"/> at this price, exact in decimal.</summary>
    public decimal CostOf(TokenUsage usage)
    {
        var uncachedPrompt = usage.PromptTokens - usage.CachedPromptTokens;
        return (uncachedPrompt * Input + usage.CachedPromptTokens * (CachedInput ?? Input) + usage.CompletionTokens * Output) / TokensPerUnit;
    }
}
