using System.Text;
using LlmGateway.Caching;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Stores;

/// <summary>The contract, plus what only the arena store does: its byte bound, wrap-around, second chances and collisions.</summary>
public sealed class InMemoryResponseCacheStoreTests : ResponseCacheStoreContract
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private readonly ManualClock _clock = new();

    public InMemoryResponseCacheStoreTests() => Store = new InMemoryResponseCacheStore(_clock, 1024 * 1024);

    protected override IResponseCacheStore Store { get; }

    protected override TimeSpan ShortTtl => TimeSpan.FromMinutes(1);

    protected override Task LetTimePassAsync(TimeSpan time)
    {
        _clock.Advance(time);
        return Task.CompletedTask;
    }

    // What one JSON answer takes in the arena: the header, the key, "application/json" and the body, 8-byte aligned.
    private static long Cost(string key, int bodyBytes)
    {
        var bytes = InMemoryResponseCacheStore.RecordHeaderBytes + Encoding.UTF8.GetByteCount(key) + "application/json".Length + bodyBytes;
        return (bytes + 7) / 8 * 8;
    }

    // An answer under `key` whose record takes exactly `units` times a 100-byte answer under a one-letter key.
    private static CachedResponse Filling(string key, int units) =>
        Json(new string(key[0], (int)(units * Cost("a", 100) - Cost(key, 0))));

    private static async Task SetAsync(InMemoryResponseCacheStore store, params string[] keys)
    {
        foreach (var key in keys)
        {
            await store.SetAsync(key, Json(new string(key[0], 100)), Ttl, Cancel);
        }
    }

    private static async Task<bool> HoldsAsync(InMemoryResponseCacheStore store, string key) => await store.GetAsync(key, Cancel) is not null;

    [Fact]
    public async Task Set_EvictsTheOldestAnswers_ButGivesOneReadSinceASecondChance()
    {
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: 3 * Cost("a", 100));
        await SetAsync(store, "a", "b", "c");
        (await store.GetAsync("a", Cancel)).ShouldNotBeNull();

        await store.SetAsync("d", Json(new string('d', 150)), Ttl, Cancel);

        (await HoldsAsync(store, "b")).ShouldBeFalse();
        (await HoldsAsync(store, "c")).ShouldBeFalse();
        (await HoldsAsync(store, "a")).ShouldBeTrue();
        (await HoldsAsync(store, "d")).ShouldBeTrue();
        store.Bytes.ShouldBe(Cost("a", 100) + Cost("d", 150));
    }

    [Fact]
    public async Task Set_KeepsNoAnswerLargerThanTheWholeBound_AndDropsTheOneItReplaces()
    {
        var bound = Cost("kept", 50) + Cost("huge", 10);
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: bound);
        await store.SetAsync("kept", Json(new string('k', 50)), Ttl, Cancel);
        await store.SetAsync("huge", Json(new string('s', 10)), Ttl, Cancel);

        await store.SetAsync("huge", Json(new string('h', (int)bound)), Ttl, Cancel);

        (await store.GetAsync("huge", Cancel)).ShouldBeNull();
        (await store.GetAsync("kept", Cancel)).ShouldNotBeNull();
        store.Bytes.ShouldBe(Cost("kept", 50));
    }

    [Fact]
    public async Task Get_ForgetsAnExpiredAnswer_AndItsBytes()
    {
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: 1000);
        await store.SetAsync("a", Json(new string('a', 100)), TimeSpan.FromMinutes(1), Cancel);
        _clock.Advance(TimeSpan.FromMinutes(1));

        (await store.GetAsync("a", Cancel)).ShouldBeNull();
        store.Bytes.ShouldBe(0);
    }

    [Fact]
    public async Task Set_WrapsToTheArenasStart_WhenAnAnswerDoesNotFitBeforeTheEnd()
    {
        var unit = Cost("a", 100);
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: 4 * unit);
        await SetAsync(store, "a", "b", "c");

        // One unit is left at the end, too little for two: that gap is skipped, and "a" and "b" at the start make room.
        await store.SetAsync("d", Filling("d", 2), Ttl, Cancel);

        (await HoldsAsync(store, "a")).ShouldBeFalse();
        (await HoldsAsync(store, "b")).ShouldBeFalse();
        store.Bytes.ShouldBe(3 * unit);

        // "e" takes the place of "c", now the oldest; "f" then takes the gap skipped at the end.
        await SetAsync(store, "e", "f");

        (await HoldsAsync(store, "c")).ShouldBeFalse();
        (await store.GetAsync("d", Cancel)).ShouldNotBeNull().Body.ToArray().ShouldBe(Filling("d", 2).Body.ToArray());
        Encoding.UTF8.GetString((await store.GetAsync("e", Cancel)).ShouldNotBeNull().Body.Span).ShouldBe(new string('e', 100));
        Encoding.UTF8.GetString((await store.GetAsync("f", Cancel)).ShouldNotBeNull().Body.Span).ShouldBe(new string('f', 100));
        store.Bytes.ShouldBe(4 * unit);
    }

    [Fact]
    public async Task Set_EvictsSeveralOfTheOldestAnswers_ToFitOneLargeAnswer()
    {
        var unit = Cost("a", 100);
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: 5 * unit);
        await SetAsync(store, "a", "b", "c", "d", "e");

        await store.SetAsync("large", Filling("large", 3), Ttl, Cancel);

        foreach (var evicted in new[] { "a", "b", "c" })
        {
            (await HoldsAsync(store, evicted)).ShouldBeFalse(evicted);
        }

        (await HoldsAsync(store, "d")).ShouldBeTrue();
        (await HoldsAsync(store, "e")).ShouldBeTrue();
        (await store.GetAsync("large", Cancel)).ShouldNotBeNull().Body.Length.ShouldBe(Filling("large", 3).Body.Length);
        store.Bytes.ShouldBe(5 * unit);
    }

    [Fact]
    public async Task AnAnswerReadOncePerLap_OutlivesLapsOfNewAnswers_WhileAnUnreadOneGoesAfterOneLap()
    {
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: 4 * Cost("a", 100));
        await SetAsync(store, "hot", "cold");

        for (var i = 0; i < 12; i++)
        {
            (await HoldsAsync(store, "hot")).ShouldBeTrue($"after {i} new answers");
            await SetAsync(store, "n" + i);
        }

        (await HoldsAsync(store, "hot")).ShouldBeTrue();
        (await HoldsAsync(store, "cold")).ShouldBeFalse();
        (await HoldsAsync(store, "n0")).ShouldBeFalse();
        (await HoldsAsync(store, "n11")).ShouldBeTrue();
    }

    [Fact]
    public async Task Get_ReadsAnAnswerMovedForItsSecondChance_ByteForByte()
    {
        var unit = Cost("a", 100);
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: 4 * unit);
        await store.SetAsync("a", Json(new string('a', 20)), Ttl, Cancel);

        // A unit long, so that moving it to the head right behind it ("a" gone) copies it over itself in part.
        var body = new byte[(int)unit - InMemoryResponseCacheStore.RecordHeaderBytes - "moved".Length - "text/event-stream".Length];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(i * 7);
        }

        var stored = new CachedResponse(CachedResponseKind.EventStream, "text/event-stream", body, new DateTimeOffset(2026, 3, 1, 1, 2, 3, TimeSpan.Zero));
        await store.SetAsync("moved", stored, Ttl, Cancel);
        await SetAsync(store, "c", "d");
        (await HoldsAsync(store, "moved")).ShouldBeTrue();

        await store.SetAsync("x", Filling("x", 2), Ttl, Cancel);

        foreach (var evicted in new[] { "a", "c", "d" })
        {
            (await HoldsAsync(store, evicted)).ShouldBeFalse(evicted);
        }

        var read = (await store.GetAsync("moved", Cancel)).ShouldNotBeNull();
        read.Kind.ShouldBe(CachedResponseKind.EventStream);
        read.ContentType.ShouldBe("text/event-stream");
        read.StoredAt.ShouldBe(stored.StoredAt);
        read.Body.ToArray().ShouldBe(body);
        (await HoldsAsync(store, "x")).ShouldBeTrue();
        store.Bytes.ShouldBe(3 * unit);
    }

    [Fact]
    public async Task Set_DropsAReadAnswerThatHasExpired_InsteadOfMovingIt()
    {
        var store = new InMemoryResponseCacheStore(_clock, maxBytes: 2 * Cost("a", 100));
        await store.SetAsync("a", Json(new string('a', 100)), TimeSpan.FromMinutes(1), Cancel);
        await SetAsync(store, "b");
        (await HoldsAsync(store, "a")).ShouldBeTrue();
        _clock.Advance(TimeSpan.FromMinutes(1));

        await SetAsync(store, "c");

        store.Bytes.ShouldBe(2 * Cost("a", 100));
        (await HoldsAsync(store, "b")).ShouldBeTrue();
        (await HoldsAsync(store, "c")).ShouldBeTrue();
    }

    [Fact]
    public async Task TwoKeysWithOneHash_NeverSeeEachOthersAnswer()
    {
        var store = new InMemoryResponseCacheStore(_clock, 1024 * 1024, _ => 42);
        await store.SetAsync("team-a", Json("""{"for":"a"}"""), Ttl, Cancel);

        (await store.GetAsync("team-b", Cancel)).ShouldBeNull();

        await store.SetAsync("team-b", Json("""{"for":"b"}"""), Ttl, Cancel);

        (await store.GetAsync("team-a", Cancel)).ShouldBeNull();
        Encoding.UTF8.GetString((await store.GetAsync("team-b", Cancel)).ShouldNotBeNull().Body.Span).ShouldBe("""{"for":"b"}""");
        store.Bytes.ShouldBe(Cost("team-b", """{"for":"b"}""".Length));
    }

    [Fact]
    public void RefusesABoundLargerThanOneArray()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new InMemoryResponseCacheStore(_clock, InMemoryResponseCacheStore.MaxBound + 1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrentSetsAndGets_NeverReturnATornOrAnotherKeysAnswer(bool fewHashes)
    {
        // A small arena, so records wrap, get evicted and moved all the time; with few hashes, keys also collide.
        var store = fewHashes
            ? new InMemoryResponseCacheStore(TimeProvider.System, 16 * 1024, key => (ulong)(key.Length % 3))
            : new InMemoryResponseCacheStore(TimeProvider.System, 16 * 1024);
        var hits = 0;
        var wrong = new List<string>();

        async Task WorkAsync(int seed)
        {
            var random = new Random(seed);
            for (var i = 0; i < 20_000; i++)
            {
                var key = "key-" + random.Next(64);
                if (random.Next(2) == 0)
                {
                    var body = string.Concat(Enumerable.Repeat(key + ";", 1 + random.Next(40)));
                    var kind = key.Length % 2 == 0 ? CachedResponseKind.Json : CachedResponseKind.EventStream;
                    await store.SetAsync(key, new CachedResponse(kind, kind.ToString(), Encoding.UTF8.GetBytes(body), DateTimeOffset.UnixEpoch), Ttl, Cancel);
                    continue;
                }

                if (await store.GetAsync(key, Cancel) is not { } read)
                {
                    continue;
                }

                Interlocked.Increment(ref hits);
                var text = Encoding.UTF8.GetString(read.Body.Span);
                if (text.Length == 0 || text.Replace(key + ";", "", StringComparison.Ordinal).Length != 0 || read.ContentType != read.Kind.ToString())
                {
                    lock (wrong)
                    {
                        wrong.Add($"{key}: {read.ContentType} {text}");
                    }
                }
            }
        }

        await Task.WhenAll(Task.Run(() => WorkAsync(1), Cancel), Task.Run(() => WorkAsync(2), Cancel), Task.Run(() => WorkAsync(3), Cancel), Task.Run(() => WorkAsync(4), Cancel));

        wrong.ShouldBeEmpty();
        hits.ShouldBeGreaterThan(0);
        store.Bytes.ShouldBeInRange(1, 16 * 1024);
    }
}
