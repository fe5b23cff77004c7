using LlmGateway.RateLimiting;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Stores;

/// <summary>What every <see cref="IRateLimitStore"/> must do; run against the in-memory and the Redis store.</summary>
public abstract class RateLimitStoreContract
{
    private readonly string _prefix = "test:" + Guid.NewGuid().ToString("N") + ":";

    protected abstract IRateLimitStore Store { get; }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private RateLimitBucket Bucket(string name, long perMinute, long amount) => new(_prefix + name, perMinute, amount);

    [Fact]
    public async Task Acquire_AllowsUpToTheLimit_ThenRefuses()
    {
        var bucket = Bucket("rpm", perMinute: 5, amount: 1);

        for (var i = 0; i < 5; i++)
        {
            (await Store.TryAcquireAsync([bucket], Cancel)).Allowed.ShouldBeTrue();
        }

        var refused = await Store.TryAcquireAsync([bucket], Cancel);
        refused.Allowed.ShouldBeFalse();
        refused.RefusedBy.ShouldBe(0);
        refused.Levels[0].ShouldBeLessThan(1);
    }

    [Fact]
    public async Task Acquire_TakesNothing_WhenAnyBucketIsShort()
    {
        var requests = Bucket("rpm", perMinute: 100, amount: 1);
        var tokens = Bucket("tpm", perMinute: 1_000, amount: 1_500);

        var refused = await Store.TryAcquireAsync([requests, tokens], Cancel);

        refused.Allowed.ShouldBeFalse();
        refused.RefusedBy.ShouldBe(1);
        var after = await Store.TryAcquireAsync([requests with { Amount = 0 }], Cancel);
        after.Levels[0].ShouldBe(100, tolerance: 0.01);
    }

    [Fact]
    public async Task Return_PutsUnusedTokensBack_UpToTheLimit()
    {
        var tokens = Bucket("tpm", perMinute: 1_000, amount: 800);
        (await Store.TryAcquireAsync([tokens], Cancel)).Allowed.ShouldBeTrue();

        await Store.ReturnAsync(tokens, 500, Cancel);
        var level = (await Store.TryAcquireAsync([tokens with { Amount = 0 }], Cancel)).Levels[0];

        level.ShouldBeInRange(700, 705);
        await Store.ReturnAsync(tokens, 5_000, Cancel);
        (await Store.TryAcquireAsync([tokens with { Amount = 0 }], Cancel)).Levels[0].ShouldBe(1_000, tolerance: 0.01);
    }

    [Fact]
    public async Task Buckets_RefillAtTheirRate()
    {
        var bucket = Bucket("rpm", perMinute: 6_000, amount: 6_000);
        (await Store.TryAcquireAsync([bucket], Cancel)).Allowed.ShouldBeTrue();

        await Task.Delay(TimeSpan.FromMilliseconds(300), Cancel);
        var level = (await Store.TryAcquireAsync([bucket with { Amount = 0 }], Cancel)).Levels[0];

        // 100 per second: about 30 back after 300 ms, and not yet full. Redis measures with its own clock, which it
        // reads once per event-loop turn, so its interval can come out a few milliseconds short of ours.
        level.ShouldBeInRange(25, 5_999);
    }

    [Fact]
    public async Task ConcurrentAcquires_AllowExactlyTheLimit()
    {
        var bucket = Bucket("rpm", perMinute: 50, amount: 1);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Store.TryAcquireAsync([bucket], Cancel).AsTask()));

        // Refill over the test's own duration (50 per minute) can add at most a couple.
        results.Count(result => result.Allowed).ShouldBeInRange(50, 52);
    }
}

public sealed class InMemoryRateLimitStoreTests : RateLimitStoreContract
{
    protected override IRateLimitStore Store { get; } = new InMemoryRateLimitStore(TimeProvider.System);
}

public sealed class RedisRateLimitStoreTests(RedisFixture redis) : RateLimitStoreContract, IClassFixture<RedisFixture>
{
    protected override IRateLimitStore Store { get; } = new RedisRateLimitStore(redis.Connection);
}
