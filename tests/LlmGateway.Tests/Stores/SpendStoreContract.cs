using LlmGateway.Metering;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Stores;

/// <summary>What every <see cref="ISpendStore"/> must do; run against the in-memory and the Redis store.</summary>
public abstract class SpendStoreContract
{
    // Each test uses its own hour far in the past, so tests sharing one Redis never see each other's records.
    private readonly DateTimeOffset _hour = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(Random.Shared.Next(0, 100_000));

    protected abstract ISpendStore Store { get; }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private UsageRecord Record(string key, string? team, string model, long prompt, long completion, decimal cost, int minute = 0, bool priced = true, bool estimated = false) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Timestamp = _hour.AddMinutes(minute),
        KeyId = key,
        Team = team,
        Model = model,
        UpstreamModel = model,
        Provider = "mock",
        Operation = "chat.completions",
        StatusCode = 200,
        Usage = new TokenUsage(prompt, completion, CachedPromptTokens: 2, ReasoningTokens: 1),
        CostUsd = cost,
        Priced = priced,
        Estimated = estimated,
    };

    private ValueTask<IReadOnlyList<SpendRow>> Query(SpendDimension by) => Store.QueryAsync(new SpendQuery(by, _hour, _hour.AddMinutes(59)), Cancel);

    [Fact]
    public async Task Query_SumsRecordsPerGroup_ExactlyToThePicodollar()
    {
        await Store.AddAsync(Record("alice", "team-a", "gpt-4o", 10, 20, 0.000000000001m), Cancel);
        await Store.AddAsync(Record("alice", "team-a", "gpt-4o-mini", 5, 5, 0.123456789012m, minute: 30), Cancel);
        await Store.AddAsync(Record("bob", null, "gpt-4o", 1, 1, 2m, estimated: true), Cancel);

        var byKey = await Query(SpendDimension.Key);
        byKey.Select(row => row.Value).ShouldBe(["alice", "bob"]);
        byKey[0].ShouldBe(new SpendRow("alice", 2, 15, 25, 4, 2, 0.123456789013m, 0, 0, 0m));
        byKey[1].EstimatedRequests.ShouldBe(1);

        var byTeam = await Query(SpendDimension.Team);
        byTeam.Select(row => row.Value).ShouldBe(["(none)", "team-a"]);

        var total = (await Query(SpendDimension.Total)).ShouldHaveSingleItem();
        total.Requests.ShouldBe(3);
        total.CostUsd.ShouldBe(2.123456789013m);
    }

    [Fact]
    public async Task Query_SumsWhatTheCacheSaved_BesideWhatWasPaid()
    {
        await Store.AddAsync(Record("alice", "team-a", "gpt-4o", 10, 20, 0.25m), Cancel);
        await Store.AddAsync(Record("alice", "team-a", "gpt-4o", 10, 20, 0m, minute: 5) with { CacheResult = "hit", SavedCostUsd = 0.25m }, Cancel);
        await Store.AddAsync(Record("alice", "team-a", "gpt-4o", 10, 20, 0m, minute: 6) with { CacheResult = "semantic-hit", SavedCostUsd = 0.000000000001m }, Cancel);

        var row = (await Query(SpendDimension.Key)).ShouldHaveSingleItem();
        row.Requests.ShouldBe(3);
        row.CostUsd.ShouldBe(0.25m);
        row.CacheSavedUsd.ShouldBe(0.250000000001m);
    }

    [Fact]
    public async Task Add_CountsARecordOnce_WhenItIsWrittenAgain()
    {
        var record = Record("alice", "team-a", "gpt-4o", 10, 20, 0.5m);

        await Store.AddAsync(record, Cancel);
        await Store.AddAsync(record, Cancel);

        (await Query(SpendDimension.Total)).ShouldHaveSingleItem().Requests.ShouldBe(1);
    }

    [Fact]
    public async Task Query_LeavesOutHoursOutsideTheRange_AndCountsUnpriced()
    {
        await Store.AddAsync(Record("alice", "team-a", "local-llama", 10, 20, 0m, priced: false), Cancel);
        await Store.AddAsync(Record("alice", "team-a", "gpt-4o", 10, 20, 1m, minute: 120), Cancel);

        var row = (await Query(SpendDimension.Model)).ShouldHaveSingleItem();
        row.Value.ShouldBe("local-llama");
        row.UnpricedRequests.ShouldBe(1);
        row.CostUsd.ShouldBe(0m);
    }
}

public sealed class InMemorySpendStoreTests : SpendStoreContract
{
    protected override ISpendStore Store { get; } = new InMemorySpendStore();
}

public sealed class RedisSpendStoreTests(RedisFixture redis) : SpendStoreContract, IClassFixture<RedisFixture>
{
    protected override ISpendStore Store { get; } = new RedisSpendStore(redis.Connection);
}
