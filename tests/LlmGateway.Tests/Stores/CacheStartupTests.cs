using LlmGateway.Caching;
using LlmGateway.Configuration;
using LlmGateway.Storage;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LlmGateway.Tests.Stores;

/// <summary>
/// The start-up check for vector sets: passes on a real Redis 8, refuses Debian bookworm's Redis 7.0 (installed by
/// <c>tests/infra/install-redis7.sh</c>), which answers VCARD with "ERR unknown command".
/// </summary>
public sealed class CacheStartupTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Start_Passes_WhenTheSemanticCacheUsesARedisWithVectorSets()
    {
        using var shared = SharedRedisAt(redis.Server.ConnectionString);
        var startup = new CacheStartup(new CachePolicies(SemanticCacheOn()), shared, NullLogger<CacheStartup>.Instance);

        await startup.StartAsync(TestContext.Current.CancellationToken);

        shared.Connection.ShouldNotBeNull().IsConnected.ShouldBeTrue();
    }

    [Fact]
    public async Task Start_Fails_WithWhatToDo_WhenTheSemanticCacheUsesARedisWithoutVectorSets()
    {
        await using var redis7 = await RedisServer.StartRedis7Async(TestContext.Current.CancellationToken);
        using var shared = SharedRedisAt(redis7.ConnectionString);
        var startup = new CacheStartup(new CachePolicies(SemanticCacheOn()), shared, NullLogger<CacheStartup>.Instance);

        var refusal = await Should.ThrowAsync<InvalidOperationException>(() => startup.StartAsync(TestContext.Current.CancellationToken));

        refusal.Message.ShouldContain("no vector sets");
        refusal.Message.ShouldContain("Redis 8.0 or later");
        refusal.Message.ShouldContain("Gateway:Cache:Semantic:Enabled");
    }

    [Fact]
    public async Task AddCacheStores_RegistersTheRedisStores_WithARedis_AndTheInMemoryOnes_WithoutOne()
    {
        foreach (var (connectionString, responses, semantic) in new[]
        {
            (redis.Server.ConnectionString, typeof(RedisResponseCacheStore), typeof(RedisSemanticIndex)),
            ("", typeof(InMemoryResponseCacheStore), typeof(InMemorySemanticIndex)),
        })
        {
            var services = new ServiceCollection();
            services.AddSingleton<IConfiguration>(Configuration(connectionString));
            services.AddSingleton(SemanticCacheOn());
            services.AddCacheStores();
            await using var provider = services.BuildServiceProvider();

            provider.GetRequiredService<IResponseCacheStore>().ShouldBeOfType(responses);
            provider.GetRequiredService<ISemanticIndex>().ShouldBeOfType(semantic);
        }
    }

    internal static SharedRedis SharedRedisAt(string connectionString) => new(Configuration(connectionString));

    internal static IOptions<GatewayOptions> SemanticCacheOn() => Options.Create(new GatewayOptions
    {
        Cache = new CacheOptions { Enabled = true, Semantic = new SemanticCacheOptions { Enabled = true, EmbeddingModel = "embed" } },
    });

    private static IConfigurationRoot Configuration(string connectionString) => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:" + RedisConnection.ConnectionStringName] = connectionString })
        .Build();
}
