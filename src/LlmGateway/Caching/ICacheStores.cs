namespace LlmGateway.Caching;

/// <summary>
/// Cached answers by exact key (a hash of everything in the request that changes the answer, tenant included).
/// In-memory for the embedded default, Redis when replicas share one.
/// </summary>
public interface IResponseCacheStore
{
    /// <summary>The answer stored under <paramref name="key"/>, or null when there is none (or it expired).</summary>
    ValueTask<CachedResponse?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="response"/> under <paramref name="key"/> for <paramref name="ttl"/>, replacing any older answer.</summary>
    ValueTask SetAsync(string key, CachedResponse response, TimeSpan ttl, CancellationToken cancellationToken);
}

/// <summary>
/// The semantic cache's vector index: embeddings of final user turns, each naming the exact-cache key of its answer.
/// A search only ever sees entries of the same <see cref="SemanticScope"/>: same partition (tenant and model) and
/// same context (hash of everything in the request but the final user turn).
/// </summary>
public interface ISemanticIndex
{
    /// <summary>The most similar entry of <paramref name="scope"/> at or above <paramref name="minSimilarity"/> (cosine), or null.</summary>
    ValueTask<SemanticMatch?> SearchAsync(SemanticScope scope, ReadOnlyMemory<float> embedding, double minSimilarity, CancellationToken cancellationToken);

    /// <summary>Adds (or replaces) the entry <paramref name="entryKey"/>; it is not found after <paramref name="ttl"/>.</summary>
    ValueTask AddAsync(SemanticScope scope, string entryKey, ReadOnlyMemory<float> embedding, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Removes an entry whose answer is gone from the <see cref="IResponseCacheStore"/>.</summary>
    ValueTask RemoveAsync(SemanticScope scope, string entryKey, CancellationToken cancellationToken);
}

/// <summary>Where a semantic entry lives: <paramref name="Partition"/> (tenant and model, one index each) and <paramref name="Context"/> (a filter within it).</summary>
public readonly record struct SemanticScope(string Partition, string Context);

/// <summary>A semantic search result: the exact-cache key of the answer and the cosine similarity (-1..1) of the two texts.</summary>
public readonly record struct SemanticMatch(string EntryKey, double Similarity);

public enum CachedResponseKind : byte
{
    /// <summary>A complete JSON body.</summary>
    Json = 1,

    /// <summary>A complete <c>text/event-stream</c>, framed as the client receives it (<c>event:</c>/<c>data:</c> lines, blank line after each event).</summary>
    EventStream = 2,
}

/// <summary>One cached answer, as it is replayed to a client.</summary>
public sealed record CachedResponse(CachedResponseKind Kind, string ContentType, ReadOnlyMemory<byte> Body, DateTimeOffset StoredAt);
