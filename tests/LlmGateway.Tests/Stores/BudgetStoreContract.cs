using LlmGateway.Budgets;
using LlmGateway.Storage;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Stores;

/// <summary>What every <see cref="IBudgetStore"/> must do; run against the in-memory and the Redis store.</summary>
public abstract class BudgetStoreContract
{
    private readonly string _prefix = "test:" + Guid.NewGuid().ToString("N") + ":";

    protected abstract IBudgetStore Store { get; }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private BudgetCounter Counter(string name, long limit) => new(_prefix + name, limit, TimeSpan.FromMinutes(5));

    [Fact]
    public async Task Reserve_AddsTheAmount_WhileItFitsUnderTheLimit()
    {
        var counter = Counter("key", 100);

        (await Store.TryReserveAsync([counter], 60, Cancel)).Reserved.ShouldBeTrue();
        (await Store.TryReserveAsync([counter], 40, Cancel)).Reserved.ShouldBeTrue();
        var refused = await Store.TryReserveAsync([counter], 1, Cancel);

        refused.Reserved.ShouldBeFalse();
        refused.RefusedBy.ShouldBe(0);
        refused.Committed.ShouldBe(100);
        (await Store.GetCommittedAsync(counter.Key, Cancel)).ShouldBe(100);
    }

    [Fact]
    public async Task Reserve_ChangesNoCounter_WhenAnyCounterIsFull()
    {
        var key = Counter("key", 1_000);
        var team = Counter("team", 50);

        var refused = await Store.TryReserveAsync([key, team], 60, Cancel);

        refused.Reserved.ShouldBeFalse();
        refused.RefusedBy.ShouldBe(1);
        (await Store.GetCommittedAsync(key.Key, Cancel)).ShouldBe(0);
        (await Store.GetCommittedAsync(team.Key, Cancel)).ShouldBe(0);
    }

    [Fact]
    public async Task Settle_ReplacesTheReservationWithTheActualCost_Once()
    {
        var key = Counter("key", 1_000);
        var team = Counter("team", 1_000);
        await Store.TryReserveAsync([key, team], 300, Cancel);

        await Store.SettleAsync("settle-1", [key, team], reserved: 300, actual: 120, Cancel);
        await Store.SettleAsync("settle-1", [key, team], reserved: 300, actual: 120, Cancel);

        (await Store.GetCommittedAsync(key.Key, Cancel)).ShouldBe(120);
        (await Store.GetCommittedAsync(team.Key, Cancel)).ShouldBe(120);
    }

    [Fact]
    public async Task Settle_WithoutAReservation_ChargesTheActualCost()
    {
        var key = Counter("key", 1_000);

        await Store.SettleAsync("settle-unreserved", [key], reserved: 0, actual: 75, Cancel);

        (await Store.GetCommittedAsync(key.Key, Cancel)).ShouldBe(75);
    }

    [Fact]
    public async Task ConcurrentReservations_NeverPassTheLimit()
    {
        var counter = Counter("key", 1_000);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Store.TryReserveAsync([counter], 7, Cancel).AsTask()));

        results.Count(result => result.Reserved).ShouldBe(1_000 / 7);
        (await Store.GetCommittedAsync(counter.Key, Cancel)).ShouldBe(1_000 / 7 * 7);
    }
}

public sealed class InMemoryBudgetStoreTests : BudgetStoreContract
{
    protected override IBudgetStore Store { get; } = new InMemoryBudgetStore();
}

public sealed class RedisBudgetStoreTests(RedisFixture redis) : BudgetStoreContract, IClassFixture<RedisFixture>
{
    protected override IBudgetStore Store { get; } = new RedisBudgetStore(redis.Connection);

    [Fact]
    public async Task Reserve_ThrowsAnUnavailableError_WhenRedisIsDown()
    {
        using var connection = new RedisConnection("127.0.0.1:" + TestSettings.UnusedPort());
        var store = new RedisBudgetStore(connection);

        var exception = await Should.ThrowAsync<Exception>(async () =>
            await store.TryReserveAsync([new BudgetCounter("test:down", 10, null)], 1, TestContext.Current.CancellationToken));

        RedisConnection.IsUnavailable(exception).ShouldBeTrue(exception.ToString());
    }
}
