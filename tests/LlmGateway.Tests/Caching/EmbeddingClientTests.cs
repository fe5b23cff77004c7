using LlmGateway.Caching;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGateway.Tests.Caching;

/// <summary>The semantic cache's embeddings client, against the mock provider through the gateway's own provider settings.</summary>
public sealed class EmbeddingClientTests : IAsyncLifetime
{
    private CacheRig _rig = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _rig = await CacheRig.StartAsync(withRedis: false, settings =>
    {
        settings["Gateway:Cache:Semantic:MaxBatchSize"] = "8";
        settings["Gateway:Cache:Semantic:EmbeddingCacheEntries"] = "1000";
    });

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task ConcurrentTexts_AreBatched_RepeatedOnesAreNotSentAgain_AndVectorsHaveUnitLength()
    {
        var client = _rig.Gateway.Services.GetRequiredService<EmbeddingClient>();
        var texts = Enumerable.Range(0, 64).Select(i => $"question number {i} about batching {Guid.NewGuid():N}").ToArray();

        // Each text twice at once: the second of a pair joins the first instead of being sent again.
        var vectors = await Task.WhenAll(texts.Concat(texts).Select(text => client.EmbedAsync(text, Cancel)));
        var upstreamAfterFirst = _rig.UpstreamCalls(CacheRig.EmbeddingsPath);
        var again = await Task.WhenAll(texts.Select(text => client.EmbedAsync(text, Cancel)));

        // 64 distinct texts, at most 8 per request: at least 8 requests, and far fewer than 64 (or 128).
        upstreamAfterFirst.ShouldBeInRange(8, 40);
        client.UpstreamRequests.ShouldBe(upstreamAfterFirst);
        _rig.UpstreamCalls(CacheRig.EmbeddingsPath).ShouldBe(upstreamAfterFirst);
        for (var i = 0; i < texts.Length; i++)
        {
            vectors[i].ShouldBeSameAs(vectors[i + texts.Length]);
            again[i].ShouldBe(vectors[i]);
            Math.Sqrt(vectors[i].Sum(x => (double)x * x)).ShouldBe(1.0, 1e-5);
        }

        vectors[0].ShouldNotBe(vectors[1]);
    }

    [Fact]
    public async Task AFailingEmbeddingsModel_FailsTheWaitingLookups_AndLaterOnesTryAgain()
    {
        var client = _rig.Gateway.Services.GetRequiredService<EmbeddingClient>();
        _rig.Upstream.Options.FailNextRequests = 1;

        await Should.ThrowAsync<HttpRequestException>(() => client.EmbedAsync($"will fail {Guid.NewGuid():N}", Cancel));
        var vector = await client.EmbedAsync($"will work {Guid.NewGuid():N}", Cancel);

        vector.Length.ShouldBeGreaterThan(0);
    }
}
