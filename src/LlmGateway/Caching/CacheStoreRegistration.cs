using LlmGateway.Configuration;
using LlmGateway.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LlmGateway.Caching;

internal static class CacheStoreRegistration
{
    /// <summary>
    /// Registers the cache's stores: in Redis, shared by all replicas, with <c>ConnectionStrings:Redis</c>; in this
    /// process without it. With Redis and the semantic cache on, start-up fails if that Redis has no vector sets.
    /// </summary>
    internal static IServiceCollection AddCacheStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SharedRedis>();
        services.TryAddSingleton<IResponseCacheStore>(sp => sp.GetRequiredService<SharedRedis>().Connection is { } redis
            ? new RedisResponseCacheStore(redis)
            : new InMemoryResponseCacheStore(sp.GetRequiredService<TimeProvider>(), CacheOptionsOf(sp).MaxInMemoryBytes));
        services.TryAddSingleton<ISemanticIndex>(sp => sp.GetRequiredService<SharedRedis>().Connection is { } redis
            ? new RedisSemanticIndex(redis, sp.GetRequiredService<TimeProvider>(), CacheOptionsOf(sp).Semantic.MaxEntriesPerIndex)
            : new InMemorySemanticIndex(sp.GetRequiredService<TimeProvider>(), CacheOptionsOf(sp).Semantic.MaxEntriesPerIndex));
        services.AddHostedService<CacheStartup>();
        return services;
    }

    private static CacheOptions CacheOptionsOf(IServiceProvider services) => services.GetRequiredService<IOptions<GatewayOptions>>().Value.Cache;
}
