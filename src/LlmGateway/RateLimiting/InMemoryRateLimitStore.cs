namespace LlmGateway.RateLimiting;

/// <summary>Token buckets of this process only: the default when no Redis is configured.</summary>
public sealed class InMemoryRateLimitStore(TimeProvider time) : IRateLimitStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (double Level, long At)> _buckets = new(StringComparer.Ordinal);

    public ValueTask<RateLimitResult> TryAcquireAsync(IReadOnlyList<RateLimitBucket> buckets, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var levels = new double[buckets.Count];
        var refusedBy = -1;
        lock (_gate)
        {
            for (var i = 0; i < buckets.Count; i++)
            {
                levels[i] = LevelAt(buckets[i], now);
                if (refusedBy < 0 && levels[i] < buckets[i].Amount)
                {
                    refusedBy = i;
                }
            }

            if (refusedBy < 0)
            {
                for (var i = 0; i < buckets.Count; i++)
                {
                    levels[i] -= buckets[i].Amount;
                    _buckets[buckets[i].Key] = (levels[i], now);
                }
            }
        }

        return ValueTask.FromResult(new RateLimitResult(refusedBy < 0, refusedBy, levels));
    }

    public ValueTask ReturnAsync(RateLimitBucket bucket, long amount, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            if (_buckets.ContainsKey(bucket.Key))
            {
                _buckets[bucket.Key] = (Math.Min(bucket.PerMinute, LevelAt(bucket, now) + amount), now);
            }
        }

        return ValueTask.CompletedTask;
    }

    private double LevelAt(RateLimitBucket bucket, long now) =>
        _buckets.TryGetValue(bucket.Key, out var state)
            ? Math.Min(bucket.PerMinute, state.Level + (now - state.At) * (double)bucket.PerMinute / 60_000d)
            : bucket.PerMinute;
}
