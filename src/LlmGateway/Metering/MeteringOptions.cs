namespace LlmGateway.Metering;

/// <summary><c>Gateway:Metering</c>: how requests are metered and priced.</summary>
public sealed record MeteringOptions
{
    /// <summary>Prices per model (USD per million tokens) that override or extend the shipped <c>prices.json</c>.</summary>
    public Dictionary<string, ModelPrice> Prices { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Refuse requests for models without a price (400 <c>model_not_priced</c>) instead of metering them as unpriced.</summary>
    public bool RefuseUnpricedModels { get; init; }

    /// <summary>The output tokens a request is assumed to need when it sets no <c>max_tokens</c> (budget reservations, TPM).</summary>
    public int DefaultMaxOutputTokens { get; init; } = 4096;

    /// <summary>
    /// Ask OpenAI-shaped streams for usage (<c>stream_options.include_usage</c>) when the client did not. Either way a
    /// client that did not ask for usage never receives a usage chunk.
    /// </summary>
    public bool RequestStreamUsage { get; init; } = true;

    /// <summary>What budgets and rate limits do when Redis cannot be reached.</summary>
    public StoreFailureMode RedisFailureMode { get; init; } = StoreFailureMode.FailOpen;

    /// <summary>
    /// Per-route overrides, keyed like <c>Gateway:Models</c> (an exact model name, alias or <c>*</c> pattern) and
    /// matched the same way: exact names first, then the most specific pattern.
    /// </summary>
    public Dictionary<string, MeteringRouteOptions> Routes { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>What one route does differently from the <c>Gateway:Metering</c> defaults.</summary>
public sealed record MeteringRouteOptions
{
    public bool? RefuseUnpricedModels { get; init; }

    public StoreFailureMode? RedisFailureMode { get; init; }

    /// <summary>The output tokens assumed for this route's requests that set no <c>max_tokens</c>.</summary>
    public int? DefaultMaxOutputTokens { get; init; }
}

public enum StoreFailureMode
{
    /// <summary>Serve the request without the shared check; records wait in memory and are written when Redis is back.</summary>
    FailOpen,

    /// <summary>Refuse the request with 503 <c>metering_unavailable</c>.</summary>
    FailClosed,
}
