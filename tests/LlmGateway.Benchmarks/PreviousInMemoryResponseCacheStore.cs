using LlmGateway.Caching;

namespace LlmGateway.Benchmarks;

/// <summary>
/// The previous design of <see cref="InMemoryResponseCacheStore"/>, kept only so the benchmarks can compare the two:
/// several managed objects per answer (answer, body copy, entry, list node, key, dictionary slot), exact LRU. Bounded
/// by the memory the answers take (bodies, keys and bookkeeping); past the bound the least recently used answers go
/// first. Expired answers are dropped when met.
/// </summary>
public sealed class PreviousInMemoryResponseCacheStore : IResponseCacheStore
{
    private readonly TimeProvider _time;
    private readonly long _maxBytes;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);

    // Most recently used first; the last node is the next to evict.
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

    public PreviousInMemoryResponseCacheStore(TimeProvider time, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        _time = time;
        _maxBytes = maxBytes;
    }

    /// <summary>The memory the answers held now take, as counted against the bound (expired answers not yet met included).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public ValueTask<CachedResponse?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return ValueTask.FromResult<CachedResponse?>(null);
            }

            if (now >= node.Value.ExpiresAt)
            {
                Remove(node);
                return ValueTask.FromResult<CachedResponse?>(null);
            }

            if (node != _recency.First)
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
            }

            return ValueTask.FromResult<CachedResponse?>(node.Value.Response);
        }
    }

    public ValueTask SetAsync(string key, CachedResponse response, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);

        // The caller's buffer may be pooled or reused once this returns: keep a copy of our own.
        var stored = response with { Body = response.Body.ToArray() };
        var entry = new Entry(key, stored, _time.GetUtcNow() + ttl);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var old))
            {
                Remove(old);
            }

            // An answer larger than the whole bound is not kept; the older one under its key is gone all the same,
            // as the caller asked for it to be replaced.
            if (entry.Size > _maxBytes)
            {
                return ValueTask.CompletedTask;
            }

            while (_bytes + entry.Size > _maxBytes && _recency.Last is { } leastRecent)
            {
                Remove(leastRecent);
            }

            _entries[key] = _recency.AddFirst(entry);
            _bytes += entry.Size;
        }

        return ValueTask.CompletedTask;
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }

    private sealed record Entry(string Key, CachedResponse Response, DateTimeOffset ExpiresAt)
    {
        /// <summary>
        /// What an answer costs this process: its body, its key (UTF-16), and the objects that hold it (the answer,
        /// its array, this entry, its list node and dictionary slot): about 256 bytes on 64-bit .NET. Counting only
        /// bodies let a cache of small answers take twice its bound (measured: 466 MiB peak at a 256 MiB bound).
        /// </summary>
        public long Size => Response.Body.Length + 2L * Key.Length + BookkeepingBytes;
    }

    /// <summary>The bytes each answer costs besides its body and key, counted against the bound.</summary>
    public const int BookkeepingBytes = 256;
}
