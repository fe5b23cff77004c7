using System.Diagnostics;
using System.Globalization;
using LlmGateway.Budgets;
using LlmGateway.Metering;
using LlmGateway.RateLimiting;
using LlmGateway.Storage;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Stores;

/// <summary>
/// The writes no request waits for (budget settlements, rate-limit give-backs, spend records) go to Redis in composed
/// scripts: many writes a command, each with its own effect, its own idempotence and its own error.
/// </summary>
public sealed class RedisWriteCoalescerTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly RedisWriteScript s_failsOnAHash = new("test: INCR on a hash", "return redis.call('INCR', KEYS[1])");
    private static readonly RedisWriteScript s_setsAString = new("test: SET", "redis.call('SET', KEYS[1], ARGV[1])");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SettlementsQueuedTogether_ShareCommands_AndEachCountsExactlyOnce()
    {
        const int Requests = 100;
        var prefix = "test:" + Guid.NewGuid().ToString("N") + ":";
        var budgets = new RedisBudgetStore(redis.Connection);
        var spend = new RedisSpendStore(redis.Connection);
        var limits = new RedisRateLimitStore(redis.Connection);
        var counter = new BudgetCounter(prefix + "budget", long.MaxValue / 4, TimeSpan.FromMinutes(5));
        const long Limit = 1_000_000_000_000;
        var bucket = new RateLimitBucket(prefix + "tokens", Limit, Limit / 10);
        (await limits.TryAcquireAsync([bucket], Cancel)).Allowed.ShouldBeTrue();
        var hour = new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(Random.Shared.Next(0, 100_000));
        await redis.Server.ExecuteAsync("CONFIG", "RESETSTAT");

        // As requests end under load: each queues its settlement, its give-back and its record, without waiting.
        var writes = new List<Task>();
        for (var i = 0; i < Requests; i++)
        {
            writes.Add(budgets.SettleAsync("settlement-" + prefix + i, [counter], reserved: 10, actual: 17, Cancel).AsTask());
            writes.Add(limits.ReturnAsync(bucket, Limit / 1_000, Cancel).AsTask());
            writes.Add(spend.AddAsync(Record(prefix + i, hour), Cancel).AsTask());
        }

        // A retried settlement: its marker makes it count once, in a composed script as on its own.
        writes.Add(budgets.SettleAsync("settlement-" + prefix + 0, [counter], reserved: 10, actual: 17, Cancel).AsTask());
        await Task.WhenAll(writes);

        var commands = await CallsAsync("eval") + await CallsAsync("evalsha");
        commands.ShouldBeGreaterThan(0);
        commands.ShouldBeLessThan(writes.Count / 4, $"{writes.Count} writes went out in {commands} commands");

        // The records that shared a command were added up before they reached the hour's hash: 6 dimensions × 4
        // counters (requests, prompt, completion, cost) per record would be 2,400 increments one by one.
        var increments = await CallsAsync("hincrby");
        increments.ShouldBeGreaterThanOrEqualTo(24);
        increments.ShouldBeLessThan(24 * Requests / 4, $"{Requests} records took {increments} HINCRBY");

        (await budgets.GetCommittedAsync(counter.Key, Cancel)).ShouldBe(7 * Requests);
        var total = (await spend.QueryAsync(new SpendQuery(SpendDimension.Total, hour, hour.AddMinutes(59)), Cancel)).ShouldHaveSingleItem();
        total.Requests.ShouldBe(Requests);
        total.PromptTokens.ShouldBe(3 * Requests);

        // A tenth taken, a tenth given back in a hundred give-backs: the bucket is full again. Without the give-backs
        // the refill of the few milliseconds since would have put back well under a thousandth.
        var level = (await limits.TryAcquireAsync([bucket with { Amount = 0 }], Cancel)).Levels.ShouldHaveSingleItem();
        level.ShouldBe(Limit);
    }

    [Fact]
    public async Task RecordsAddedUpInOneCommand_StayExactToThePicodollar_EvenPastWhatLuaCountsExactly_AndARepeatOfOneCountsOnce()
    {
        var spend = new RedisSpendStore(redis.Connection);
        var prefix = "test:" + Guid.NewGuid().ToString("N") + ":";
        var hour = new DateTimeOffset(2022, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(Random.Shared.Next(0, 100_000));

        // $5,000 is 5×10^15 picodollars: two of them pass 2^53, past which a Lua number no longer holds every integer.
        decimal[] costs = [0.000000000001m, 5_000.000000000003m, 0.123456789012m, 5_000.000000000004m, 0.000000000009m];
        var writes = new List<Task>();
        for (var i = 0; i < costs.Length; i++)
        {
            writes.Add(spend.AddAsync(Record(prefix + i, hour) with { CostUsd = costs[i] }, Cancel).AsTask());
        }

        writes.Add(spend.AddAsync(Record(prefix + 1, hour) with { CostUsd = costs[1] }, Cancel).AsTask());
        await Task.WhenAll(writes);

        var total = (await spend.QueryAsync(new SpendQuery(SpendDimension.Total, hour, hour.AddMinutes(59)), Cancel)).ShouldHaveSingleItem();
        total.Requests.ShouldBe(costs.Length);
        total.CostUsd.ShouldBe(costs.Sum());
        total.PromptTokens.ShouldBe(3 * costs.Length);
    }

    [Fact]
    public async Task AWriteWhoseScriptFails_FailsAlone_WithRedisError_AndTheWriteBesideItApplies()
    {
        var hash = "test:" + Guid.NewGuid().ToString("N") + ":hash";
        var text = "test:" + Guid.NewGuid().ToString("N") + ":string";
        await redis.Server.ExecuteAsync("HSET", hash, "field", "1");

        var failing = redis.Connection.WriteAsync(s_failsOnAHash, [hash], []);
        var applying = redis.Connection.WriteAsync(s_setsAString, [text], ["applied"]);

        var error = await Should.ThrowAsync<RedisWriteException>(failing);
        error.Write.ShouldBe("test: INCR on a hash");
        error.Error.ShouldContain("WRONGTYPE");
        await applying;
        (await redis.Server.ExecuteAsync("GET", text)).ShouldBe("$7\r\napplied\r\n");
        (await redis.Server.ExecuteAsync("HGET", hash, "field")).ShouldBe("$1\r\n1\r\n");
    }

    [Fact]
    public async Task WithRedisAway_AWriteFailsAsUnavailable_AndWritesGoOutAgainOnceItIsBack()
    {
        await using var server = await RedisServer.StartAsync(Cancel);
        using var connection = new RedisConnection(server.ConnectionString);
        var key = "test:" + Guid.NewGuid().ToString("N");
        await connection.WriteAsync(s_setsAString, [key], ["before"]);

        await server.KillAsync();
        var failure = await Should.ThrowAsync<Exception>(connection.WriteAsync(s_setsAString, [key], ["while away"]));
        RedisConnection.IsUnavailable(failure).ShouldBeTrue(failure.ToString());

        await server.RestartAsync(Cancel);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await connection.WriteAsync(s_setsAString, [key], ["after"]);
                break;
            }
            catch (Exception exception) when (RedisConnection.IsUnavailable(exception) && waited.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(100, Cancel);
            }
        }

        (await server.ExecuteAsync("GET", key)).ShouldBe("$5\r\nafter\r\n");
    }

    private static UsageRecord Record(string id, DateTimeOffset hour) => new()
    {
        Id = id,
        Timestamp = hour,
        KeyId = "alice",
        Model = "gpt-4o-mini",
        UpstreamModel = "gpt-4o-mini",
        Provider = "mock",
        Operation = "chat.completions",
        StatusCode = 200,
        Usage = new TokenUsage(3, 5, CachedPromptTokens: 0, ReasoningTokens: 0),
        CostUsd = 0.000001m,
        Priced = true,
    };

    /// <summary>How often Redis has run a command since the last <c>CONFIG RESETSTAT</c>, inside scripts or not.</summary>
    private async Task<int> CallsAsync(string command)
    {
        var stats = await redis.Server.ExecuteAsync("INFO", "commandstats");
        foreach (var line in stats.Split("\r\n"))
        {
            if (line.StartsWith("cmdstat_" + command + ":", StringComparison.Ordinal))
            {
                var calls = line[(line.IndexOf("calls=", StringComparison.Ordinal) + "calls=".Length)..];
                return int.Parse(calls[..calls.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
