using System.Text;
using LlmGateway.Caching;
using LlmGateway.Storage;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Stores;

/// <summary>What every <see cref="IResponseCacheStore"/> must do; run against the in-memory and the Redis store.</summary>
public abstract class ResponseCacheStoreContract
{
    // Keys of their own per test, so tests sharing one Redis never see each other's answers.
    private readonly string _prefix = Guid.NewGuid().ToString("N") + ":";

    protected abstract IResponseCacheStore Store { get; }

    /// <summary>A TTL short enough to wait out, yet long enough that a read right after the write still sees it.</summary>
    protected abstract TimeSpan ShortTtl { get; }

    protected abstract Task LetTimePassAsync(TimeSpan time);

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    protected string Key(string name) => _prefix + name;

    protected static CachedResponse Json(string body) =>
        new(CachedResponseKind.Json, "application/json", Encoding.UTF8.GetBytes(body), new DateTimeOffset(2026, 3, 1, 12, 0, 0, 123, TimeSpan.Zero));

    [Fact]
    public async Task Get_ReturnsNull_WhenNothingIsStoredUnderTheKey()
    {
        await Store.SetAsync(Key("other"), Json("{}"), TimeSpan.FromMinutes(5), Cancel);

        (await Store.GetAsync(Key("missing"), Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task SetThenGet_ReturnsAJsonAnswer_ByteForByte()
    {
        var body = new byte[1024];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(i * 7);
        }

        var stored = new CachedResponse(CachedResponseKind.Json, "application/json; charset=utf-8", body, new DateTimeOffset(2026, 3, 1, 12, 30, 15, 456, TimeSpan.Zero));
        await Store.SetAsync(Key("json"), stored, TimeSpan.FromMinutes(5), Cancel);

        var read = (await Store.GetAsync(Key("json"), Cancel)).ShouldNotBeNull();
        read.Kind.ShouldBe(CachedResponseKind.Json);
        read.ContentType.ShouldBe("application/json; charset=utf-8");
        read.StoredAt.ShouldBe(stored.StoredAt);
        read.Body.ToArray().ShouldBe(body);
    }

    [Fact]
    public async Task SetThenGet_ReturnsAnEventStream_ByteForByte()
    {
        var stream = "data: {\"choices\":[{\"delta\":{\"content\":\"Grüße 👋\"}}]}\n\ndata: {\"usage\":{\"total_tokens\":9}}\n\ndata: [DONE]\n\n";
        var stored = new CachedResponse(CachedResponseKind.EventStream, "text/event-stream", Encoding.UTF8.GetBytes(stream), new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        await Store.SetAsync(Key("sse"), stored, TimeSpan.FromMinutes(5), Cancel);

        var read = (await Store.GetAsync(Key("sse"), Cancel)).ShouldNotBeNull();
        read.Kind.ShouldBe(CachedResponseKind.EventStream);
        read.ContentType.ShouldBe("text/event-stream");
        Encoding.UTF8.GetString(read.Body.Span).ShouldBe(stream);
        read.StoredAt.ShouldBe(stored.StoredAt);
    }

    [Fact]
    public async Task SetThenGet_KeepsAnEmptyBody()
    {
        await Store.SetAsync(Key("empty"), Json(""), TimeSpan.FromMinutes(5), Cancel);

        (await Store.GetAsync(Key("empty"), Cancel)).ShouldNotBeNull().Body.Length.ShouldBe(0);
    }

    [Fact]
    public async Task Set_ReplacesTheOlderAnswer()
    {
        await Store.SetAsync(Key("replaced"), Json("""{"old":true}"""), TimeSpan.FromMinutes(5), Cancel);
        await Store.SetAsync(Key("replaced"), Json("""{"new":true}"""), TimeSpan.FromMinutes(5), Cancel);

        Encoding.UTF8.GetString((await Store.GetAsync(Key("replaced"), Cancel)).ShouldNotBeNull().Body.Span).ShouldBe("""{"new":true}""");
    }

    [Fact]
    public async Task Set_KeepsItsOwnCopy_WhenTheCallerReusesItsBuffer()
    {
        var buffer = Encoding.UTF8.GetBytes("""{"a":1}""");
        await Store.SetAsync(Key("copy"), Json("") with { Body = buffer }, TimeSpan.FromMinutes(5), Cancel);
        buffer.AsSpan().Fill((byte)'x');

        Encoding.UTF8.GetString((await Store.GetAsync(Key("copy"), Cancel)).ShouldNotBeNull().Body.Span).ShouldBe("""{"a":1}""");
    }

    [Fact]
    public async Task Get_ReturnsNull_OnceTheTtlHasPassed()
    {
        await Store.SetAsync(Key("short"), Json("{}"), ShortTtl, Cancel);
        await Store.SetAsync(Key("long"), Json("{}"), TimeSpan.FromMinutes(5), Cancel);
        (await Store.GetAsync(Key("short"), Cancel)).ShouldNotBeNull();

        await LetTimePassAsync(ShortTtl * 2);

        (await Store.GetAsync(Key("short"), Cancel)).ShouldBeNull();
        (await Store.GetAsync(Key("long"), Cancel)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Set_RefusesATtlThatIsNotPositive()
    {
        await Should.ThrowAsync<ArgumentOutOfRangeException>(async () => await Store.SetAsync(Key("zero"), Json("{}"), TimeSpan.Zero, Cancel));
    }
}

public sealed class RedisResponseCacheStoreTests(RedisFixture redis) : ResponseCacheStoreContract, IClassFixture<RedisFixture>
{
    protected override IResponseCacheStore Store { get; } = new RedisResponseCacheStore(redis.Connection);

    // Redis expires keys by its own clock: real time, with a wide margin for a busy machine.
    protected override TimeSpan ShortTtl => TimeSpan.FromSeconds(1.5);

    protected override Task LetTimePassAsync(TimeSpan time) => Task.Delay(time, Cancel);

    [Fact]
    public async Task Set_WritesOneKeyUnderThePrefix_WithAMillisecondTtl()
    {
        await Store.SetAsync(Key("layout"), Json("{}"), TimeSpan.FromMilliseconds(90_500), Cancel);

        var ttl = await redis.Connection.Database.KeyTimeToLiveAsync(RedisResponseCacheStore.KeyPrefix + Key("layout"));
        ttl.ShouldNotBeNull().TotalMilliseconds.ShouldBeInRange(80_000, 90_500);
    }

    [Fact]
    public async Task Get_ReturnsNull_ForAnAnswerWrittenInAFormatItDoesNotKnow()
    {
        await redis.Connection.Database.StringSetAsync(RedisResponseCacheStore.KeyPrefix + Key("future"), new byte[] { 2, 1, 0, 0 });

        (await Store.GetAsync(Key("future"), Cancel)).ShouldBeNull();
    }

    [Fact]
    public async Task Get_ThrowsAnUnavailableError_WhenRedisIsDown()
    {
        using var connection = new RedisConnection("127.0.0.1:" + TestSettings.UnusedPort());
        var store = new RedisResponseCacheStore(connection);

        var exception = await Should.ThrowAsync<Exception>(async () => await store.GetAsync("down", Cancel));

        RedisConnection.IsUnavailable(exception).ShouldBeTrue(exception.ToString());
    }
}
