using System.Collections.Frozen;
using LlmGateway.Configuration;
using LlmGateway.Providers;
using LlmGateway.Resilience;
using Microsoft.Extensions.Options;

namespace LlmGateway.Routing;

/// <summary>Where one attempt goes: which provider, under which upstream model name, through which deployment.</summary>
public sealed record ModelRoute(string PublicModel, UpstreamProvider Provider, string UpstreamModel)
{
    /// <summary>The deployment this route sends to.</summary>
    public required Deployment Deployment { get; init; }

    /// <summary>The same public model, sent through another deployment (of this model or a fallback model).</summary>
    internal ModelRoute Through(Deployment deployment, string publicModel)
    {
        if (ReferenceEquals(deployment, Deployment) && ReferenceEquals(publicModel, PublicModel))
        {
            return this;
        }

        return new ModelRoute(publicModel, deployment.Provider, deployment.UpstreamModel ?? publicModel) { Deployment = deployment };
    }
}

/// <summary>Set by routing: the route the current attempt takes; the resilience stage moves it to each new attempt's deployment.</summary>
public sealed class ModelRouteFeature(ModelRoute route)
{
    public ModelRoute Route { get; internal set; } = route;

    /// <summary>The model the client's request resolved to.</summary>
    public RoutedModel Model => Route.Deployment.Model;
}

/// <summary>
/// Resolves the <c>model</c> a client asks for: exact names and aliases first, then wildcard patterns such as
/// <c>gpt-*</c>, the most specific (longest literal text) first, passing the requested name upstream.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelRoute> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Prefix, string Suffix, RoutedModel Model)> _patterns = [];
    private readonly FrozenDictionary<string, RoutedModel> _byCluster;

    public ModelCatalog(IOptions<GatewayOptions> options, ProviderRegistry providers, TimeProvider timeProvider)
    {
        var models = new Dictionary<string, RoutedModel>(StringComparer.Ordinal);
        foreach (var (name, modelOptions) in options.Value.Models)
        {
            var model = Build(name, modelOptions, providers, timeProvider);
            models[name] = model;
            var star = name.IndexOf('*', StringComparison.Ordinal);
            if (star >= 0)
            {
                _patterns.Add((name[..star], name[(star + 1)..], model));
                continue;
            }

            var primary = Primary(model);
            var route = new ModelRoute(name, primary.Provider, primary.UpstreamModel ?? name) { Deployment = primary };
            _exact[name] = route;
            foreach (var alias in modelOptions.Aliases)
            {
                _exact[alias] = route with { PublicModel = alias };
            }
        }

        foreach (var model in models.Values)
        {
            var fallbacks = new List<RoutedModel>(model.Options.Fallbacks.Count);
            foreach (var fallback in model.Options.Fallbacks)
            {
                fallbacks.Add(models[fallback]);
            }

            model.Fallbacks = fallbacks;
            model.ContextWindowFallback = model.Options.ContextWindowFallback is { } larger ? models[larger] : null;
            model.Attempts = AttemptPipeline.For(model, timeProvider);
        }

        Models = [.. models.Values];
        _byCluster = models.Values.ToFrozenDictionary(m => m.ClusterId, StringComparer.OrdinalIgnoreCase);
        _patterns.Sort((a, b) => (b.Prefix.Length + b.Suffix.Length).CompareTo(a.Prefix.Length + a.Suffix.Length));
    }

    /// <summary>Every configured model, patterns included.</summary>
    public IReadOnlyList<RoutedModel> Models { get; }

    /// <summary>The models a client can list: every exact name and alias (patterns cannot be listed).</summary>
    public IEnumerable<ModelRoute> Listed => _exact.Values;

    /// <summary>The route through the model's preferred deployment (lowest priority, first configured).</summary>
    public ModelRoute? Resolve(string model)
    {
        if (_exact.TryGetValue(model, out var route))
        {
            return route;
        }

        foreach (var (prefix, suffix, pattern) in _patterns)
        {
            if (model.Length >= prefix.Length + suffix.Length
                && model.StartsWith(prefix, StringComparison.Ordinal)
                && model.EndsWith(suffix, StringComparison.Ordinal))
            {
                var primary = Primary(pattern);
                return new ModelRoute(model, primary.Provider, primary.UpstreamModel ?? model) { Deployment = primary };
            }
        }

        return null;
    }

    /// <summary>The deployment behind a YARP destination of a model's cluster.</summary>
    internal Deployment? DeploymentOf(string clusterId, string destinationId) =>
        _byCluster.TryGetValue(clusterId, out var model) && model.ByDestinationId.TryGetValue(destinationId, out var deployment) ? deployment : null;

    private static RoutedModel Build(string name, ModelOptions options, ProviderRegistry providers, TimeProvider timeProvider)
    {
        var configured = options.Deployments.Count > 0
            ? options.Deployments
            : [new DeploymentOptions { Provider = options.Provider, UpstreamModel = options.UpstreamModel }];
        var isPattern = name.Contains('*', StringComparison.Ordinal);
        var deployments = new List<Deployment>(configured.Count);
        var connect = TimeSpan.Zero;
        var response = TimeSpan.Zero;
        for (var i = 0; i < configured.Count; i++)
        {
            var deployment = configured[i];
            var provider = providers.Get(deployment.Provider);
            var upstream = deployment.UpstreamModel ?? options.UpstreamModel ?? (isPattern ? null : name);
            var breaker = options.CircuitBreaker.Enabled ? new DeploymentCircuitBreaker(options.CircuitBreaker, timeProvider) : null;
            deployments.Add(new Deployment(DeploymentNaming.NameOf(deployment, options), provider, upstream, deployment.Weight, deployment.Priority, i, breaker));
            connect = provider.ConnectTimeout > connect ? provider.ConnectTimeout : connect;
            response = provider.ResponseTimeout > response ? provider.ResponseTimeout : response;
        }

        return new RoutedModel(name, options, deployments, options.Timeouts.Connect ?? connect, options.Timeouts.Response ?? response);
    }

    private static Deployment Primary(RoutedModel model)
    {
        var primary = model.Deployments[0];
        foreach (var deployment in model.Deployments)
        {
            if (deployment.Priority < primary.Priority)
            {
                primary = deployment;
            }
        }

        return primary;
    }
}
