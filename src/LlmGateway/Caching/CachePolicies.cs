using LlmGateway.Configuration;
using LlmGateway.Routing;
using Microsoft.Extensions.Options;

namespace LlmGateway.Caching;

/// <summary>What the cache does for one route: <c>Gateway:Cache</c> with the route's overrides applied.</summary>
public sealed record CachePolicy(bool Enabled, TimeSpan Ttl, bool RequireZeroTemperature, bool SemanticEnabled, double SimilarityThreshold);

/// <summary>The cache policy of each route.</summary>
public sealed class CachePolicies
{
    private readonly RouteTable<CachePolicy> _routes;

    public CachePolicies(IOptions<GatewayOptions> options)
    {
        var cache = options.Value.Cache;
        var defaults = new CachePolicy(cache.Enabled, cache.Ttl, cache.RequireZeroTemperature, cache.Semantic.Enabled, cache.Semantic.SimilarityThreshold);
        _routes = new RouteTable<CachePolicy>(defaults);
        foreach (var (name, route) in cache.Routes)
        {
            _routes.Add(name, new CachePolicy(
                route.Enabled ?? defaults.Enabled,
                route.Ttl ?? defaults.Ttl,
                route.RequireZeroTemperature ?? defaults.RequireZeroTemperature,
                route.SemanticEnabled ?? defaults.SemanticEnabled,
                route.SimilarityThreshold ?? defaults.SimilarityThreshold));
        }

        AnyEnabled = defaults.Enabled || cache.Routes.Values.Any(route => route.Enabled == true);
        AnySemantic = AnyEnabled && (defaults.SemanticEnabled || cache.Routes.Values.Any(route => route.SemanticEnabled == true));
    }

    /// <summary>Whether any route caches at all.</summary>
    public bool AnyEnabled { get; }

    /// <summary>Whether any route uses the semantic cache (and so the vector index and the embeddings model).</summary>
    public bool AnySemantic { get; }

    public CachePolicy For(string model) => _routes.For(model);
}
