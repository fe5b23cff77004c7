namespace LlmGateway.Caching;

/// <summary><c>Gateway:Cache</c>: the exact and semantic response cache.</summary>
public sealed record CacheOptions
{
    /// <summary>Turns the cache on for every route (routes can still opt out under <see cref="Routes"/>).</summary>
    public bool Enabled { get; init; }

    /// <summary>How long an answer stays cached.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Cache only requests that set <c>temperature</c> to 0 (deterministic answers); others bypass.</summary>
    public bool RequireZeroTemperature { get; init; }

    /// <summary>Whose answers a request may be served: its team's (the default) or only its own key's.</summary>
    public CacheScope Scope { get; init; } = CacheScope.Team;

    /// <summary>Largest answer stored, in bytes; larger answers are served but not cached.</summary>
    public int MaxEntryBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// The in-process store's bound (used without <c>ConnectionStrings:Redis</c>): the size of the one byte array that
    /// holds the answers (bodies, keys, content types and a 40-byte header each), at most <see cref="Array.MaxLength"/>.
    /// Larger caches belong in Redis, shared by the replicas. The default, 16 MiB (about 16,000 answers of 1 KiB), keeps
    /// a gateway under load within 200 MB of resident memory with the cache full (docs/benchmarks.md).
    /// </summary>
    public long MaxInMemoryBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>How long a cache lookup may take before the request bypasses the cache.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The semantic cache, consulted on an exact miss.</summary>
    public SemanticCacheOptions Semantic { get; init; } = new();

    /// <summary>
    /// Per-route overrides, keyed like <c>Gateway:Models</c> (an exact model name, alias or <c>*</c> pattern) and
    /// matched the same way: exact names first, then the most specific pattern.
    /// </summary>
    public Dictionary<string, CacheRouteOptions> Routes { get; init; } = new(StringComparer.Ordinal);
}

public sealed record SemanticCacheOptions
{
    public bool Enabled { get; init; }

    /// <summary>The embeddings model (a model of <c>Gateway:Models</c>) that embeds the final user turn.</summary>
    public string? EmbeddingModel { get; init; }

    /// <summary>The least cosine similarity between two final user turns for one to be served the other's answer.</summary>
    public double SimilarityThreshold { get; init; } = 0.95;

    /// <summary>Entries per vector index (one per tenant and model); the oldest are evicted beyond it.</summary>
    public int MaxEntriesPerIndex { get; init; } = 10_000;

    /// <summary>Embeddings of recent texts kept in this process, so a repeated text is not embedded twice.</summary>
    public int EmbeddingCacheEntries { get; init; } = 10_000;

    /// <summary>Texts sent in one embeddings request at most; concurrent lookups are batched up to this.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>How long a request waits for its embedding before it goes upstream without the semantic cache.</summary>
    public TimeSpan EmbeddingTimeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>What one route does differently from the <c>Gateway:Cache</c> defaults.</summary>
public sealed record CacheRouteOptions
{
    public bool? Enabled { get; init; }

    public TimeSpan? Ttl { get; init; }

    public bool? RequireZeroTemperature { get; init; }

    public bool? SemanticEnabled { get; init; }

    public double? SimilarityThreshold { get; init; }
}

public enum CacheScope
{
    /// <summary>Requests of the same team share answers; a key without a team shares only with itself.</summary>
    Team,

    /// <summary>Each virtual key has its own answers.</summary>
    Key,
}
