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
    public static IServiceCollection AddMetering(this IServiceCollection services)
    {
        services.TryAddSingleton<PriceCatalog>();
        services.TryAddSingleton<MeteringPolicies>();
        services.TryAddSingleton<MeteringMetrics>();
        services.TryAddSingleton<MeteringWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<MeteringWriter>());

        services.TryAddSingleton<SharedRedis>();
        services.AddHostedService<RedisStartup>();
        services.TryAddSingleton<ISpendStore>(sp => sp.GetRequiredService<SharedRedis>().Connection is { } redis
            ? new RedisSpendStore(redis)
            : new InMemorySpendStore());
        services.TryAddSingleton<IBudgetStore>(sp => sp.GetRequiredService<SharedRedis>().Connection is { } redis
            ? new RedisBudgetStore(redis)
            : new InMemoryBudgetStore());
        services.TryAddSingleton<ApplicableBudgets>();
        services.TryAddSingleton<BudgetMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<BudgetMetrics>());
        services.TryAddSingleton<IRateLimitStore>(sp => sp.GetRequiredService<SharedRedis>().Connection is { } redis
            ? new RedisRateLimitStore(redis)
            : new InMemoryRateLimitStore(sp.GetRequiredService<TimeProvider>()));
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

    /// <summary>
    /// With budgets in Redis, sends each request's budget reservation as soon as its route is known, beside the rate-limit
    /// round trip; the budget stage takes the result. With the in-process store it does nothing.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseBudgetLookahead(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<BudgetLookaheadMiddleware>();
        return proxy;
    }

    /// <summary>Enforces requests and tokens per minute per key and team.</summary>
    public static IReverseProxyApplicationBuilder UseRateLimits(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<RateLimitMiddleware>();
        return proxy;
    }
}
