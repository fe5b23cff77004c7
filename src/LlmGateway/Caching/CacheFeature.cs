namespace LlmGateway.Caching;

/// <summary>What the cache did with a request: <c>x-gateway-cache</c>, the usage record and the request's span.</summary>
public enum CacheResult
{
    /// <summary>No cache on the request's route.</summary>
    None,

    /// <summary>Not in the cache: the upstream answered, and a complete answer is stored.</summary>
    Miss,

    /// <summary>Served from the exact cache.</summary>
    Hit,

    /// <summary>Served the answer of an earlier request whose final question was worded differently.</summary>
    SemanticHit,

    /// <summary>The route caches, but not this request (opted out, not deterministic, or the cache is unavailable).</summary>
    Bypass,
}

/// <summary>The cache's outcome for one request, for the stages outside it (metering, telemetry).</summary>
public sealed class CacheFeature
{
    public CacheResult Result { get; internal set; }

    /// <summary>For a semantic hit, the cosine similarity of the two final questions.</summary>
    public double? Similarity { get; internal set; }

    /// <summary>For a hit, how long ago the answer was stored.</summary>
    public TimeSpan? Age { get; internal set; }

    public bool IsHit => Result is CacheResult.Hit or CacheResult.SemanticHit;

    /// <summary>The value of <c>x-gateway-cache</c> and of the usage record's cache result.</summary>
    public static string Name(CacheResult result) => result switch
    {
        CacheResult.Miss => "miss",
        CacheResult.Hit => "hit",
        CacheResult.SemanticHit => "semantic-hit",
        CacheResult.Bypass => "bypass",
        _ => "none",
    };
}
