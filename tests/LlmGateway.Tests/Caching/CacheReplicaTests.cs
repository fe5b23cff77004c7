using System.Net;
using LlmGateway.MockProvider;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Caching;

/// <summary>Two gateway replicas sharing one real Redis 8 share one cache: what one stored, the other serves.</summary>
public sealed class CacheReplicaTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private MockProviderServer _upstream = null!;
    private GatewayServer _first = null!;
    private GatewayServer _second = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = CacheRig.Settings(_upstream, _redis);
        _first = await GatewayServer.StartAsync(settings);
        _second = await GatewayServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task AnAnswerStoredByOneReplica_IsAnExactAndASemanticHitOnTheOther()
    {
        var tag = Guid.NewGuid().ToString("N");
        (await AskAsync(_first, $"What is the tallest mountain on Earth? {tag}")).ShouldBe("miss");
        await _first.CacheWritesSettledAsync();
        var calls = _upstream.Stats.RequestsByPath["/v1/chat/completions"];

        (await AskAsync(_second, $"What is the tallest mountain on Earth? {tag}")).ShouldBe("hit");
        (await AskAsync(_second, $"what is the tallest mountain on the Earth {tag}")).ShouldBe("semantic-hit");

        _upstream.Stats.RequestsByPath["/v1/chat/completions"].ShouldBe(calls);
    }

    private static async Task<string> AskAsync(GatewayServer gateway, string question)
    {
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test", question: question)), Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return response.Headers.GetValues("x-gateway-cache").Single();
    }
}
