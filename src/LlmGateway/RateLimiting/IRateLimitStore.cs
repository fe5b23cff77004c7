namespace LlmGateway.RateLimiting;

/// <summary>
/// Token buckets shared by all replicas. A bucket holds up to its per-minute limit and refills continuously at that
/// rate, so a limit holds at every instant, with no window edges to burst across.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>Takes each bucket's amount if every bucket has enough; otherwise takes nothing. Atomic across buckets.</summary>
    ValueTask<RateLimitResult> TryAcquireAsync(IReadOnlyList<RateLimitBucket> buckets, CancellationToken cancellationToken = default);

    /// <summary>Puts <paramref name="amount"/> back into a bucket (negative: takes more), e.g. once actual tokens are known.</summary>
    ValueTask ReturnAsync(RateLimitBucket bucket, long amount, CancellationToken cancellationToken = default);
}

/// <summary>A bucket: its key, its limit per minute, and how much this request takes from it.</summary>
public readonly record struct RateLimitBucket(string Key, long PerMinute, long Amount);

/// <summary>The level of each bucket after the attempt (before it, when refused), in the order given.</summary>
public sealed record RateLimitResult(bool Allowed, int RefusedBy, double[] Levels)
{
    /// <summary>How long until a bucket that holds <paramref name="level"/> has <paramref name="wanted"/>.</summary>
    public static TimeSpan TimeUntil(double level, double wanted, long perMinute) =>
        level >= wanted || perMinute <= 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Ceiling((wanted - level) * 60_000d / perMinute));
}
