using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LlmGateway.Caching;

public static class CachingExtensions
{
    /// <summary>
    /// Registers the response cache: policies, the embeddings client and the stores (Redis when
    /// <c>ConnectionStrings:Redis</c> is set, shared by all replicas; otherwise in this process).
    /// </summary>
    public static IServiceCollection AddCaching(this IServiceCollection services)
    {
        services.TryAddSingleton<CachePolicies>();
        services.TryAddSingleton<CacheMetrics>();
        services.TryAddSingleton<CacheWriter>();
        services.TryAddSingleton<EmbeddingClient>();
        services.AddCacheStores();
        return services;
    }

    /// <summary>
    /// With answers in a shared store (Redis), starts each request's exact-cache lookup once its route is known, so
    /// that it overlaps the admission stages' round trips; <see cref="UseCaching"/> takes the result.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseCacheLookahead(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<CacheLookaheadMiddleware>();
        return proxy;
    }

    /// <summary>Serves repeated requests (exact, then semantic) from the cache and stores complete answers.</summary>
    public static IReverseProxyApplicationBuilder UseCaching(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<CacheMiddleware>();
        return proxy;
    }
}
