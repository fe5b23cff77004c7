using System.Net;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Caching;

/// <summary>Redis dies under a caching gateway: hits turn into upstream calls, and no request fails.</summary>
public sealed class CacheRedisOutageTests : IAsyncLifetime
{
    private CacheRig _rig = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _rig = await CacheRig.StartAsync(withRedis: true);

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task KillingRedis_TurnsHitsIntoUpstreamCalls_WithZeroFailedRequests_AndHitsReturnWithRedis()
    {
        var exact = $$"""{"model":"gpt-test","messages":[{"role":"user","content":"Is the cache up? {{Guid.NewGuid():N}}"}]}""";
        var streamed = exact.Replace("\"messages\"", "\"stream\":true,\"messages\"", StringComparison.Ordinal);
        await _rig.ChatAsync(exact);
        await _rig.ChatAsync(streamed);
        await _rig.CacheWritesSettledAsync();
        CacheRig.CacheResult((await _rig.ChatAsync(exact)).Response).ShouldBe("hit");

        await _rig.Redis!.KillAsync();
        var calls = _rig.UpstreamCalls();
        var results = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var (response, body) = await _rig.ChatAsync(i % 2 == 0 ? exact : streamed);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
            results.Add(CacheRig.CacheResult(response));
        }

        // Concurrent requests too: none waits on a dead Redis for long, none fails.
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _rig.ChatAsync(exact)));
        concurrent.ShouldAllBe(answer => answer.Response.StatusCode == HttpStatusCode.OK);

        results.ShouldAllBe(result => result == "bypass");
        _rig.UpstreamCalls().ShouldBe(calls + 10 + 8);

        await _rig.Redis.RestartAsync(Cancel);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string result;
        do
        {
            await Task.Delay(200, Cancel);
            var (response, _) = await _rig.ChatAsync(exact);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            result = CacheRig.CacheResult(response);
            await _rig.CacheWritesSettledAsync();
        }
        while (result != "hit" && DateTime.UtcNow < deadline);

        // The restarted Redis starts empty (no persistence): the first answer after it is back is stored again, then hit.
        result.ShouldBe("hit");
    }
}
