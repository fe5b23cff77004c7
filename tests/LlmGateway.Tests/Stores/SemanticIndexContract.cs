using LlmGateway.Caching;
using LlmGateway.Storage;
using LlmGateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace LlmGateway.Tests.Stores;

/// <summary>What every <see cref="ISemanticIndex"/> must do; run against the in-memory and the Redis index.</summary>
public abstract class SemanticIndexContract
{
    // Partitions of their own per test, so tests sharing one Redis never see each other's entries.
    private readonly string _prefix = Guid.NewGuid().ToString("N");

    protected abstract TimeSpan ShortTtl { get; }

    protected static TimeSpan LongTtl => TimeSpan.FromMinutes(5);

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Similarity of Redis's 8-bit quantised vectors may differ from the exact cosine by this much.</summary>
    protected const double Tolerance = 0.01;

    protected abstract ISemanticIndex CreateIndex(int maxEntriesPerPartition = 10_000);

    protected abstract Task LetTimePassAsync(TimeSpan time);

    protected SemanticScope Scope(string partition = "p", string context = "ctx") => new(_prefix + "-" + partition, context);

    /// <summary>A vector of 8 dimensions: the given leading values, zeros after them.</summary>
    protected static float[] Vector(params float[] values)
    {
        var vector = new float[8];
        values.CopyTo(vector, 0);
        return vector;
    }

    /// <summary>The unit vector along dimension <paramref name="dimension"/>: orthogonal to every other axis.</summary>
    protected static float[] Axis(int dimension)
    {
        var vector = new float[8];
        vector[dimension] = 1;
        return vector;
    }

    [Fact]
    public async Task Search_FindsTheNearestEntryAboveTheThreshold_WithItsCosineSimilarity()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "near", Vector(1, 0.1f), LongTtl, Cancel);
        await index.AddAsync(Scope(), "far", Vector(0.6f, 0.8f), LongTtl, Cancel);
        await index.AddAsync(Scope(), "opposite", Vector(-1), LongTtl, Cancel);

        var match = (await index.SearchAsync(Scope(), Vector(1), 0.9, Cancel)).ShouldNotBeNull();

        match.EntryKey.ShouldBe("near");
        match.Similarity.ShouldBe(1 / Math.Sqrt(1.01), Tolerance);
    }

    [Fact]
    public async Task Search_FindsNothing_WhenTheNearestEntryIsBelowTheThreshold()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "far", Vector(0.6f, 0.8f), LongTtl, Cancel);

        (await index.SearchAsync(Scope(), Vector(1), 0.7, Cancel)).ShouldBeNull();
        (await index.SearchAsync(Scope(), Vector(1), 0.5, Cancel)).ShouldNotBeNull().Similarity.ShouldBe(0.6, Tolerance);
    }

    [Theory]
    [InlineData(new float[] { 3, 0 }, 1.0)]
    [InlineData(new float[] { 0, 2 }, 0.0)]
    [InlineData(new float[] { -5, 0 }, -1.0)]
    [InlineData(new float[] { 1, 1 }, 0.7071067811865476)]
    public async Task Search_ReportsCosineSimilarity_FromMinusOneToOne(float[] stored, double cosine)
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "entry", Vector(stored), LongTtl, Cancel);

        var match = (await index.SearchAsync(Scope(), Vector(1), -1, Cancel)).ShouldNotBeNull();

        match.Similarity.ShouldBe(cosine, Tolerance);
        match.Similarity.ShouldBeInRange(-1, 1);
    }

    [Fact]
    public async Task Search_NeverMatchesAnotherContext_EvenWithTheSameVector()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(context: "system-prompt-a"), "a", Vector(1, 2, 3), LongTtl, Cancel);

        (await index.SearchAsync(Scope(context: "system-prompt-b"), Vector(1, 2, 3), 0, Cancel)).ShouldBeNull();
        (await index.SearchAsync(Scope(context: "system-prompt-a"), Vector(1, 2, 3), 0, Cancel)).ShouldNotBeNull().EntryKey.ShouldBe("a");
    }

    [Fact]
    public async Task Search_NeverMatchesAnotherPartition_EvenWithTheSameVectorAndContext()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(partition: "tenant-a"), "a", Vector(1, 2, 3), LongTtl, Cancel);

        (await index.SearchAsync(Scope(partition: "tenant-b"), Vector(1, 2, 3), 0, Cancel)).ShouldBeNull();
        (await index.SearchAsync(Scope(partition: "tenant-a"), Vector(1, 2, 3), 0, Cancel)).ShouldNotBeNull().EntryKey.ShouldBe("a");
    }

    [Fact]
    public async Task Search_DoesNotFindExpiredEntries()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "short", Vector(1), ShortTtl, Cancel);
        await index.AddAsync(Scope(), "long", Vector(0.9f, 0.1f), LongTtl, Cancel);
        (await index.SearchAsync(Scope(), Vector(1), 0.9, Cancel)).ShouldNotBeNull().EntryKey.ShouldBe("short");

        await LetTimePassAsync(ShortTtl * 2);

        (await index.SearchAsync(Scope(), Vector(1), 0.9, Cancel)).ShouldNotBeNull().EntryKey.ShouldBe("long");
    }

    [Fact]
    public async Task Remove_TakesTheEntryOutOfSearches()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "gone", Vector(1), LongTtl, Cancel);
        await index.AddAsync(Scope(), "kept", Vector(0, 1), LongTtl, Cancel);

        await index.RemoveAsync(Scope(), "gone", Cancel);
        await index.RemoveAsync(Scope(), "never-added", Cancel);

        (await index.SearchAsync(Scope(), Vector(1), 0.5, Cancel)).ShouldBeNull();
        (await index.SearchAsync(Scope(), Vector(0, 1), 0.5, Cancel)).ShouldNotBeNull().EntryKey.ShouldBe("kept");
    }

    [Fact]
    public async Task Add_ReplacesTheEntryOfTheSameKey()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "entry", Vector(1), LongTtl, Cancel);

        await index.AddAsync(Scope(), "entry", Vector(0, 1), LongTtl, Cancel);

        (await index.SearchAsync(Scope(), Vector(1), 0.5, Cancel)).ShouldBeNull();
        (await index.SearchAsync(Scope(), Vector(0, 1), 0.5, Cancel)).ShouldNotBeNull().EntryKey.ShouldBe("entry");
    }

    [Fact]
    public async Task Add_EvictsTheOldestEntries_BeyondTheBoundOfThePartition()
    {
        var index = CreateIndex(maxEntriesPerPartition: 3);
        for (var i = 0; i < 5; i++)
        {
            // Later entries expire later, as they do with one TTL per partition; the bound spans contexts.
            await index.AddAsync(Scope(context: "ctx" + (i % 2)), "e" + i, Axis(i), LongTtl + TimeSpan.FromSeconds(i), Cancel);
        }

        await index.AddAsync(Scope(partition: "other"), "o", Vector(1, 0), LongTtl, Cancel);

        for (var i = 0; i < 5; i++)
        {
            var match = await index.SearchAsync(Scope(context: "ctx" + (i % 2)), Axis(i), 0.99, Cancel);
            (match?.EntryKey == "e" + i).ShouldBe(i >= 2, "entry e" + i);
        }

        (await index.SearchAsync(Scope(partition: "other"), Vector(1, 0), 0.99, Cancel)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Search_FindsAnEntryOfARareContext_AmongThousandsOfNearerEntriesOfOtherContexts()
    {
        var index = CreateIndex();
        var random = new Random(6);
        for (var i = 0; i < 2_000; i++)
        {
            // All nearer to the query than the needle, so a search that gives up after a few hundred candidates
            // failing the filter never reaches it.
            var noise = Vector(1);
            for (var d = 1; d < noise.Length; d++)
            {
                noise[d] = (float)(random.NextDouble() - 0.5) * 0.1f;
            }

            await index.AddAsync(Scope(context: "crowd-" + (i % 50)), "crowd-" + i, noise, LongTtl, Cancel);
        }

        await index.AddAsync(Scope(context: "rare"), "needle", Vector(1, 0, 0.3f), LongTtl, Cancel);

        var match = (await index.SearchAsync(Scope(context: "rare"), Vector(1), 0.9, Cancel)).ShouldNotBeNull();
        match.EntryKey.ShouldBe("needle");
        match.Similarity.ShouldBe(1 / Math.Sqrt(1.09), Tolerance);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x\" or .c != \"x")]
    [InlineData("with space")]
    public async Task AddAndSearch_RefuseAContextThatIsNotAToken(string context)
    {
        var index = CreateIndex();

        await Should.ThrowAsync<ArgumentException>(async () => await index.AddAsync(Scope(context: context), "e", Vector(1), LongTtl, Cancel));
        await Should.ThrowAsync<ArgumentException>(async () => await index.SearchAsync(Scope(context: context), Vector(1), 0, Cancel));
    }

    [Fact]
    public async Task AddAndSearch_RefuseAVectorWithoutADirection()
    {
        var index = CreateIndex();

        await Should.ThrowAsync<ArgumentException>(async () => await index.AddAsync(Scope(), "e", Vector(), LongTtl, Cancel));
        await Should.ThrowAsync<ArgumentException>(async () => await index.SearchAsync(Scope(), new float[4], 0, Cancel));
    }
}

public sealed class InMemorySemanticIndexTests : SemanticIndexContract, IDisposable
{
    private readonly ManualClock _clock = new();
    private readonly List<InMemorySemanticIndex> _indexes = [];

    protected override TimeSpan ShortTtl => TimeSpan.FromMinutes(1);

    protected override ISemanticIndex CreateIndex(int maxEntriesPerPartition = 10_000)
    {
        var index = new InMemorySemanticIndex(_clock, maxEntriesPerPartition);
        _indexes.Add(index);
        return index;
    }

    protected override Task LetTimePassAsync(TimeSpan time)
    {
        _clock.Advance(time);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var index in _indexes)
        {
            index.Dispose();
        }
    }
}

public sealed class RedisSemanticIndexTests(RedisFixture redis) : SemanticIndexContract, IClassFixture<RedisFixture>
{
    // Search filters on expiry by the gateway's clock, Redis drops keys by its own: real time, with a wide margin.
    protected override TimeSpan ShortTtl => TimeSpan.FromSeconds(1.5);

    protected override ISemanticIndex CreateIndex(int maxEntriesPerPartition = 10_000) =>
        new RedisSemanticIndex(redis.Connection, TimeProvider.System, maxEntriesPerPartition);

    protected override Task LetTimePassAsync(TimeSpan time) => Task.Delay(time, Cancel);

    private IDatabase Database => redis.Connection.Database;

    [Fact]
    public async Task SupportsVectorSets_IsTrue_OnRedis8()
    {
        (await RedisSemanticIndex.SupportsVectorSetsAsync(redis.Connection)).ShouldBeTrue();
    }

    [Fact]
    public async Task Add_KeepsAVectorSetAndAnExpiryIndexPerPartition_ThatExpireWithTheirLastEntry()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "a", Vector(1), TimeSpan.FromSeconds(60), Cancel);
        await index.AddAsync(Scope(), "b", Vector(0, 1), TimeSpan.FromSeconds(30), Cancel);

        var vectors = RedisSemanticIndex.VectorsKey(Scope());
        var expiries = RedisSemanticIndex.ExpiryKey(Scope());
        vectors.ShouldBe("llmgw:cache:vectors:{" + Scope().Partition + "}:ctx");
        expiries.ShouldBe("llmgw:cache:vectors-expiry:{" + Scope().Partition + "}");
        ((long)await Database.ExecuteAsync("VCARD", (RedisKey)vectors)).ShouldBe(2);
        (await Database.SortedSetRangeByRankAsync(expiries)).Select(member => (string?)member).ShouldBe(["ctx b", "ctx a"]);
        foreach (var key in new[] { vectors, expiries })
        {
            (await Database.KeyTimeToLiveAsync(key)).ShouldNotBeNull().TotalSeconds.ShouldBeInRange(50, 60, key);
        }

        var attributes = (string?)await Database.ExecuteAsync("VGETATTR", (RedisKey)vectors, "a");
        attributes.ShouldNotBeNull().ShouldStartWith("""{"e":""");
    }

    [Fact]
    public async Task Add_DropsExpiredEntriesOfEveryContextOfThePartition()
    {
        var index = CreateIndex();
        await index.AddAsync(Scope(), "short", Vector(1), TimeSpan.FromMilliseconds(200), Cancel);
        await Task.Delay(TimeSpan.FromMilliseconds(600), Cancel);

        await index.AddAsync(Scope(context: "other"), "next", Vector(0, 1), LongTtl, Cancel);

        (await Database.KeyExistsAsync(RedisSemanticIndex.VectorsKey(Scope()))).ShouldBeFalse();
        ((long)await Database.ExecuteAsync("VCARD", (RedisKey)RedisSemanticIndex.VectorsKey(Scope(context: "other")))).ShouldBe(1);
        (await Database.SortedSetLengthAsync(RedisSemanticIndex.ExpiryKey(Scope()))).ShouldBe(1);
    }

    [Fact]
    public async Task Search_ThrowsAnUnavailableError_WhenRedisIsDown()
    {
        using var connection = new RedisConnection("127.0.0.1:" + TestSettings.UnusedPort());
        var index = new RedisSemanticIndex(connection, TimeProvider.System, 10);

        var exception = await Should.ThrowAsync<Exception>(async () => await index.SearchAsync(Scope(), Vector(1), 0.9, Cancel));

        RedisConnection.IsUnavailable(exception).ShouldBeTrue(exception.ToString());
    }
}
