using LlmGateway.Configuration;
using LlmGateway.Routing;
using Microsoft.Extensions.Options;

namespace LlmGateway.Metering;

/// <summary>The metering policy of a request's route: the global defaults with the route's overrides applied.</summary>
public sealed class MeteringPolicies
{
    private readonly RouteTable<MeteringPolicy> _routes;

    public MeteringPolicies(IOptions<GatewayOptions> options)
    {
        var metering = options.Value.Metering;
        var defaults = new MeteringPolicy(metering.RefuseUnpricedModels, metering.RedisFailureMode, metering.DefaultMaxOutputTokens);
        _routes = new RouteTable<MeteringPolicy>(defaults);
        foreach (var (name, route) in metering.Routes)
        {
            _routes.Add(name, new MeteringPolicy(
                route.RefuseUnpricedModels ?? defaults.RefuseUnpricedModels,
                route.RedisFailureMode ?? defaults.RedisFailureMode,
                route.DefaultMaxOutputTokens ?? defaults.DefaultMaxOutputTokens));
        }
    }

    /// <summary>The policy for a request that asked for <paramref name="model"/>.</summary>
    public MeteringPolicy For(string model) => _routes.For(model);
}

public sealed record MeteringPolicy(bool RefuseUnpricedModels, StoreFailureMode RedisFailureMode, int DefaultMaxOutputTokens);
