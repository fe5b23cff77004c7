using LlmGateway.Configuration;
using LlmGateway.Providers;
using Microsoft.Extensions.Options;

namespace LlmGateway.Routing;

/// <summary>Where a public model name is served: which provider, under which upstream model name.</summary>
public sealed record ModelRoute(string PublicModel, UpstreamProvider Provider, string UpstreamModel);

/// <summary>Set by routing: the route the request takes.</summary>
public sealed class ModelRouteFeature(ModelRoute route)
{
    public ModelRoute Route { get; } = route;
}

/// <summary>
/// Resolves the <c>model</c> a client asks for: exact names and aliases first, then wildcard patterns such as
/// <c>gpt-*</c>, the most specific (longest literal text) first, passing the requested name upstream.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelRoute> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Prefix, string Suffix, ModelOptions Options)> _patterns = [];
    private readonly ProviderRegistry _providers;

    public ModelCatalog(IOptions<GatewayOptions> options, ProviderRegistry providers)
    {
        _providers = providers;
        foreach (var (name, model) in options.Value.Models)
        {
            var star = name.IndexOf('*', StringComparison.Ordinal);
            if (star >= 0)
            {
                _patterns.Add((name[..star], name[(star + 1)..], model));
                continue;
            }

            var route = new ModelRoute(name, providers.Get(model.Provider), model.UpstreamModel ?? name);
            _exact[name] = route;
            foreach (var alias in model.Aliases)
            {
                _exact[alias] = route with { PublicModel = alias };
            }
        }

        _patterns.Sort((a, b) => (b.Prefix.Length + b.Suffix.Length).CompareTo(a.Prefix.Length + a.Suffix.Length));
    }

    /// <summary>The models a client can list: every exact name and alias (patterns cannot be listed).</summary>
    public IEnumerable<ModelRoute> Listed => _exact.Values;

    public ModelRoute? Resolve(string model)
    {
        if (_exact.TryGetValue(model, out var route))
        {
            return route;
        }

        foreach (var (prefix, suffix, options) in _patterns)
        {
            if (model.Length >= prefix.Length + suffix.Length
                && model.StartsWith(prefix, StringComparison.Ordinal)
                && model.EndsWith(suffix, StringComparison.Ordinal))
            {
                return new ModelRoute(model, _providers.Get(options.Provider), options.UpstreamModel ?? model);
            }
        }

        return null;
    }
}
