namespace LlmGateway.Metering;

/// <summary>
/// The tokens one request used, kept apart as providers bill them. <see cref="CachedPromptTokens"/> is the part of
/// <see cref="PromptTokens"/> served from the provider's prompt cache; <see cref="ReasoningTokens"/> the part of
/// <see cref="CompletionTokens"/> spent thinking.
/// </summary>
public readonly record struct TokenUsage(long PromptTokens, long CompletionTokens, long CachedPromptTokens, long ReasoningTokens)
{
    public long TotalTokens => PromptTokens + CompletionTokens;
}
