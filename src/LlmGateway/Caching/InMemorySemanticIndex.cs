using System.Collections.Concurrent;

namespace LlmGateway.Caching;

/// <summary>
/// The semantic index of this process only: the default when no Redis is configured. Exact (brute-force) cosine over
/// the unexpired entries of one partition and context. Each partition holds at most a fixed number of entries; past
/// it, the entry that expires first (with one TTL per partition: the oldest) makes room.
/// </summary>
public sealed class InMemorySemanticIndex : ISemanticIndex, IDisposable
{
    private readonly TimeProvider _time;
    private readonly int _maxEntriesPerPartition;
    private readonly ConcurrentDictionary<string, Partition> _partitions = new(StringComparer.Ordinal);

    public InMemorySemanticIndex(TimeProvider time, int maxEntriesPerPartition)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEntriesPerPartition);
        _time = time;
        _maxEntriesPerPartition = maxEntriesPerPartition;
    }

    public ValueTask<SemanticMatch?> SearchAsync(SemanticScope scope, ReadOnlyMemory<float> embedding, double minSimilarity, CancellationToken cancellationToken)
    {
        SemanticVectors.ValidateScope(scope);
        var query = SemanticVectors.Normalize(embedding.Span);
        if (!_partitions.TryGetValue(scope.Partition, out var partition))
        {
            return ValueTask.FromResult<SemanticMatch?>(null);
        }

        return ValueTask.FromResult(partition.Search(scope.Context, query, minSimilarity, _time.GetUtcNow()));
    }

    public ValueTask AddAsync(SemanticScope scope, string entryKey, ReadOnlyMemory<float> embedding, TimeSpan ttl, CancellationToken cancellationToken)
    {
        SemanticVectors.ValidateScope(scope);
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var now = _time.GetUtcNow();
        var entry = new Entry(entryKey, scope.Context, SemanticVectors.Normalize(embedding.Span), now + ttl);
        _partitions.GetOrAdd(scope.Partition, static _ => new Partition()).Add(entry, now, _maxEntriesPerPartition);
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveAsync(SemanticScope scope, string entryKey, CancellationToken cancellationToken)
    {
        if (_partitions.TryGetValue(scope.Partition, out var partition))
        {
            partition.Remove(entryKey);
        }

        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var partition in _partitions.Values)
        {
            partition.Dispose();
        }
    }

    private sealed record Entry(string Key, string Context, float[] Unit, DateTimeOffset ExpiresAt);

    /// <summary>One partition's entries, by key and by context; searches share the lock, changes take it alone.</summary>
    private sealed class Partition : IDisposable
    {
        private readonly ReaderWriterLockSlim _gate = new();
        private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Dictionary<string, Entry>> _byContext = new(StringComparer.Ordinal);

        public SemanticMatch? Search(string context, float[] query, double minSimilarity, DateTimeOffset now)
        {
            _gate.EnterReadLock();
            try
            {
                if (!_byContext.TryGetValue(context, out var entries))
                {
                    return null;
                }

                Entry? best = null;
                var bestSimilarity = double.NegativeInfinity;
                foreach (var entry in entries.Values)
                {
                    // Vectors of another length come from another embeddings model: never similar.
                    if (entry.ExpiresAt <= now || entry.Unit.Length != query.Length)
                    {
                        continue;
                    }

                    var similarity = SemanticVectors.Dot(entry.Unit, query);
                    if (similarity > bestSimilarity)
                    {
                        best = entry;
                        bestSimilarity = similarity;
                    }
                }

                // Rounding can carry the dot product of two unit vectors just past ±1.
                return best is not null && bestSimilarity >= minSimilarity
                    ? new SemanticMatch(best.Key, Math.Clamp(bestSimilarity, -1, 1))
                    : null;
            }
            finally
            {
                _gate.ExitReadLock();
            }
        }

        public void Add(Entry entry, DateTimeOffset now, int maxEntries)
        {
            _gate.EnterWriteLock();
            try
            {
                RemoveLocked(entry.Key);
                RemoveExpiredLocked(now);
                while (_byKey.Count >= maxEntries)
                {
                    RemoveLocked(FirstToExpireLocked());
                }

                _byKey[entry.Key] = entry;
                if (!_byContext.TryGetValue(entry.Context, out var entries))
                {
                    _byContext[entry.Context] = entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
                }

                entries[entry.Key] = entry;
            }
            finally
            {
                _gate.ExitWriteLock();
            }
        }

        public void Remove(string key)
        {
            _gate.EnterWriteLock();
            try
            {
                RemoveLocked(key);
            }
            finally
            {
                _gate.ExitWriteLock();
            }
        }

        private void RemoveExpiredLocked(DateTimeOffset now)
        {
            List<string>? expired = null;
            foreach (var entry in _byKey.Values)
            {
                if (entry.ExpiresAt <= now)
                {
                    (expired ??= []).Add(entry.Key);
                }
            }

            if (expired is not null)
            {
                foreach (var key in expired)
                {
                    RemoveLocked(key);
                }
            }
        }

        private string FirstToExpireLocked()
        {
            Entry? first = null;
            foreach (var entry in _byKey.Values)
            {
                if (first is null || entry.ExpiresAt < first.ExpiresAt)
                {
                    first = entry;
                }
            }

            return first!.Key;
        }

        public void Dispose() => _gate.Dispose();

        private void RemoveLocked(string key)
        {
            if (!_byKey.Remove(key, out var entry))
            {
                return;
            }

            var entries = _byContext[entry.Context];
            entries.Remove(key);
            if (entries.Count == 0)
            {
                _byContext.Remove(entry.Context);
            }
        }
    }
}
