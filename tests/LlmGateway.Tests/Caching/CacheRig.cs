using System.Net.Http.Headers;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Caching;

/// <summary>A gateway with the exact and semantic cache on, a mock upstream that counts calls, and optionally a real Redis 8.</summary>
public sealed class CacheRig : IAsyncDisposable
{
    public const string ChatPath = "/v1/chat/completions";
    public const string EmbeddingsPath = "/v1/embeddings";

    /// <summary>The admin key of the rig's gateway, for <c>/admin/spend</c>.</summary>
    public const string AdminKey = "sk-gw-admin-cache-0004";

    // The mock's word-hashing embeddings put paraphrases that share most words at about 0.8-0.9; unrelated questions near 0.
    public const double Threshold = 0.75;

    private CacheRig(MockProviderServer upstream, GatewayServer gateway, RedisServer? redis)
    {
        Upstream = upstream;
        Gateway = gateway;
        Redis = redis;
    }

    public MockProviderServer Upstream { get; }

    public GatewayServer Gateway { get; }

    public RedisServer? Redis { get; }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static async Task<CacheRig> StartAsync(bool withRedis, Action<Dictionary<string, string?>>? configure = null)
    {
        var redis = withRedis ? await RedisServer.StartAsync() : null;
        var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = Settings(upstream, redis);
        configure?.Invoke(settings);
        var gateway = await GatewayServer.StartAsync(settings);
        return new CacheRig(upstream, gateway, redis);
    }

    /// <summary>The rig's gateway settings: the standard test gateway with the exact and semantic cache on, in Redis when given one.</summary>
    public static Dictionary<string, string?> Settings(MockProviderServer upstream, RedisServer? redis)
    {
        var settings = TestSettings.Standard(upstream.BaseAddress);
        if (redis is not null)
        {
            settings["ConnectionStrings:Redis"] = redis.ConnectionString;
        }

        settings["Gateway:Models:embedder:Provider"] = "mock";
        settings["Gateway:Models:embedder:UpstreamModel"] = "mock-embedding";
        settings["Gateway:Metering:Prices:gpt-test:Input"] = "3";
        settings["Gateway:Metering:Prices:gpt-test:Output"] = "15";
        settings["Gateway:Admin:KeyHash"] = VirtualKeyHash.Compute(AdminKey).ToString();
        settings["Gateway:Cache:Enabled"] = "true";
        settings["Gateway:Cache:Semantic:Enabled"] = "true";
        settings["Gateway:Cache:Semantic:EmbeddingModel"] = "embedder";
        settings["Gateway:Cache:Semantic:SimilarityThreshold"] = Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Generous: these machines are shared, and a lookup past its timeout is (correctly) a bypass.
        settings["Gateway:Cache:LookupTimeout"] = "00:00:05";
        return settings;
    }

    public long UpstreamCalls(string path = ChatPath) => Upstream.Stats.RequestsByPath.TryGetValue(path, out var count) ? count : 0;

    /// <summary>Posts a chat request as <paramref name="virtualKey"/>; <paramref name="headers"/> are extra request headers.</summary>
    public async Task<(HttpResponseMessage Response, string Body)> ChatAsync(string body, string virtualKey = TestSettings.VirtualKey, params (string Name, string Value)[] headers)
    {
        using var client = Gateway.CreateHttpClient(virtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("v1/chat/completions", UriKind.Relative)) { Content = Json(body) };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, Cancel);
        return (response, await response.Content.ReadAsStringAsync(Cancel));
    }

    /// <summary>Waits until every answer the gateway decided to store has been written.</summary>
    public Task CacheWritesSettledAsync() => Gateway.CacheWritesSettledAsync();

    public static string CacheResult(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-gateway-cache", out var values) ? values.Single() : "(absent)";

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.Single() : "(absent)";

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
