using LlmGateway.Budgets;
using LlmGateway.RateLimiting;
using LlmGateway.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LlmGateway.Metering;

public static class MeteringExtensions
{
    /// <summary>
    /// Registers metering, budgets and rate limits. With <c>ConnectionStrings:Redis</c> their stores live in Redis and
    /// are shared by all replicas; without it they live in this process.
    /// </summary>
    public static IServiceCollection AddMetering(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<PriceCatalog>();
        services.TryAddSingleton<MeteringMetrics>();
        services.TryAddSingleton<MeteringWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<MeteringWriter>());

        var redis = configuration.GetConnectionString(RedisConnection.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(redis))
        {
            services.TryAddSingleton<ISpendStore, InMemorySpendStore>();
            services.TryAddSingleton<IBudgetStore, InMemoryBudgetStore>();
            services.TryAddSingleton<IRateLimitStore, InMemoryRateLimitStore>();
        }
        else
        {
            services.TryAddSingleton(_ => new RedisConnection(redis));
            services.AddHostedService<RedisStartup>();
            services.TryAddSingleton<ISpendStore, RedisSpendStore>();
            services.TryAddSingleton<IBudgetStore, RedisBudgetStore>();
            services.TryAddSingleton<IRateLimitStore, RedisRateLimitStore>();
        }

        return services;
    }

    /// <summary>Meters every request: usage from the response, cost, one record per request.</summary>
    public static IReverseProxyApplicationBuilder UseMetering(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<MeteringMiddleware>();
        return proxy;
    }

    /// <summary>Reserves each request's worst case on its key's and team's budgets, and settles the metered cost.</summary>
    public static IReverseProxyApplicationBuilder UseBudgets(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<BudgetMiddleware>();
        return proxy;
    }

    /// <summary>Enforces requests and tokens per minute per key and team.</summary>
    public static IReverseProxyApplicationBuilder UseRateLimits(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<RateLimitMiddleware>();
        return proxy;
    }
}
