using System.Collections.Frozen;
using LlmGateway.Configuration;
using LlmGateway.Providers;
using LlmGateway.Resilience;
using Polly;

namespace LlmGateway.Routing;

/// <summary>
/// A configured model (an exact name or a pattern) with everything a request for it needs: its deployments, the
/// strategy that picks among them, and the resilience settings of its attempts. One YARP cluster per model, one
/// destination per deployment.
/// </summary>
public sealed class RoutedModel
{
    internal RoutedModel(string name, ModelOptions options, IReadOnlyList<Deployment> deployments, TimeSpan connectTimeout, TimeSpan responseTimeout)
    {
        Name = name;
        IsPattern = name.Contains('*', StringComparison.Ordinal);
        ClusterId = "model:" + name;
        Options = options;
        Deployments = deployments;
        ConnectTimeout = connectTimeout;
        ResponseTimeout = responseTimeout;
        var byDestination = new Dictionary<string, Deployment>(StringComparer.OrdinalIgnoreCase);
        foreach (var deployment in deployments)
        {
            deployment.Model = this;
            byDestination[deployment.Name] = deployment;
        }

        ByDestinationId = byDestination.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The model's key under <c>Gateway:Models</c>.</summary>
    public string Name { get; }

    public bool IsPattern { get; }

    /// <summary>The YARP cluster whose destinations are this model's deployments.</summary>
    public string ClusterId { get; }

    public IReadOnlyList<Deployment> Deployments { get; }

    public RoutingStrategy Strategy => Options.Strategy;

    public TimeSpan ConnectTimeout { get; }

    /// <summary>YARP's activity timeout for the model's cluster: time to first byte, and silence between chunks.</summary>
    public TimeSpan ResponseTimeout { get; }

    internal ModelOptions Options { get; }

    internal FrozenDictionary<string, Deployment> ByDestinationId { get; }

    /// <summary>The models tried after this one, resolved once the catalog is complete.</summary>
    internal IReadOnlyList<RoutedModel> Fallbacks { get; set; } = [];

    internal RoutedModel? ContextWindowFallback { get; set; }

    /// <summary>The Polly pipeline around a request's attempts: total deadline and retries.</summary>
    internal ResiliencePipeline<AttemptOutcome> Attempts { get; set; } = ResiliencePipeline<AttemptOutcome>.Empty;

    public override string ToString() => Name;
}

/// <summary>One place a model is served: a provider, the model's name there, weight, priority, and its health.</summary>
public sealed class Deployment
{
    internal Deployment(string name, UpstreamProvider provider, string? upstreamModel, int weight, int priority, int order, DeploymentCircuitBreaker? breaker)
    {
        Name = name;
        Provider = provider;
        UpstreamModel = upstreamModel;
        Weight = weight;
        Priority = priority;
        Order = order;
        Breaker = breaker;
    }

    /// <summary>The deployment's name: its YARP destination id and the value of <c>x-gateway-deployment</c>.</summary>
    public string Name { get; }

    public UpstreamProvider Provider { get; }

    /// <summary>The model name sent upstream; null passes the requested name through (pattern models).</summary>
    public string? UpstreamModel { get; }

    public int Weight { get; }

    public int Priority { get; }

    /// <summary>The deployment's position in configuration, for the ordered-fallback strategy.</summary>
    public int Order { get; }

    public RoutedModel Model { get; internal set; } = null!;

    /// <summary>Null when the model's circuit breaker is disabled.</summary>
    internal DeploymentCircuitBreaker? Breaker { get; }

    /// <summary>Moving average of the time to response headers, for the lowest-latency strategy.</summary>
    internal LatencyAverage Latency { get; } = new();

    public override string ToString() => Name;
}
