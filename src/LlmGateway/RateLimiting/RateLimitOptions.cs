namespace LlmGateway.RateLimiting;

/// <summary><c>Gateway:RateLimits</c>: requests and tokens per minute per virtual key id and per team.</summary>
public sealed record RateLimitOptions
{
    public Dictionary<string, RateLimit> Keys { get; init; } = new(StringComparer.Ordinal);

    public Dictionary<string, RateLimit> Teams { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>A limit left out (null) is not enforced.</summary>
public sealed record RateLimit
{
    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }
}
