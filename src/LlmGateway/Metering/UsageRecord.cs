namespace LlmGateway.Metering;

/// <summary>What one request used and cost, and to whom it is attributed. Written exactly once per request.</summary>
public sealed record UsageRecord
{
    /// <summary>Unique across gateway replicas; makes writing the record idempotent.</summary>
    public required string Id { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    public required string KeyId { get; init; }

    public string? Team { get; init; }

    /// <summary>The end user: the OpenAI <c>user</c> field, else the <c>x-gateway-user</c> header, else the key's user.</summary>
    public string? User { get; init; }

    public string? Project { get; init; }

    /// <summary>The model the client asked for.</summary>
    public required string Model { get; init; }

    public required string UpstreamModel { get; init; }

    public required string Provider { get; init; }

    /// <summary>The provider deployment that answered, when routing uses deployments; otherwise null.</summary>
    public string? Deployment { get; init; }

    /// <summary><c>none</c> (no cache on the route), <c>miss</c>, <c>hit</c>, <c>semantic-hit</c> or <c>bypass</c>.</summary>
    public string CacheResult { get; init; } = "none";

    /// <summary>True when the answer came from the cache: no upstream call, zero cost.</summary>
    public bool ServedFromCache => CacheResult is "hit" or "semantic-hit";

    /// <summary>For an answer served from the cache, what the upstream would have charged for it; otherwise zero.</summary>
    public decimal SavedCostUsd { get; init; }

    public required string Operation { get; init; }

    public bool Streamed { get; init; }

    public int StatusCode { get; init; }

    public TimeSpan Latency { get; init; }

    /// <summary>For a stream: from the start of metering to the first event with generated content; otherwise null.</summary>
    public TimeSpan? TimeToFirstToken { get; init; }

    public TokenUsage Usage { get; init; }

    /// <summary>The cost in USD; zero when <see cref="Priced"/> is false.</summary>
    public decimal CostUsd { get; init; }

    /// <summary>False when the model has no price: the tokens are counted, the money is not.</summary>
    public bool Priced { get; init; }

    /// <summary>True when the upstream reported no usage and the gateway estimated it.</summary>
    public bool Estimated { get; init; }

    /// <summary>True when the client went away before the response was complete.</summary>
    public bool ClientDisconnected { get; init; }
}
