using LlmGateway.Configuration;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmGateway.Routing.LoadBalancing;

/// <summary>A deployment chosen for an attempt, with the YARP cluster and destination that reach it.</summary>
internal readonly record struct DeploymentChoice(Deployment Deployment, ClusterState Cluster, DestinationState Destination);

/// <summary>
/// Chooses the deployment of an attempt: walks the model and then its fallback models, and within a model hands the
/// deployments that may take the attempt to the model's strategy. A deployment may take it when its YARP destination
/// has an address, its circuit breaker lets traffic through, and (on the first pass) it has not failed this request.
/// </summary>
internal sealed class DeploymentSelector
{
    private readonly IProxyStateLookup _proxyState;
    private readonly Dictionary<RoutingStrategy, ILoadBalancingPolicy> _policies = [];

    public DeploymentSelector(IProxyStateLookup proxyState, IEnumerable<ILoadBalancingPolicy> policies)
    {
        _proxyState = proxyState;
        foreach (var policy in policies)
        {
            if (policy is DeploymentPolicy deploymentPolicy)
            {
                _policies[deploymentPolicy.Strategy] = policy;
            }
        }
    }

    /// <summary>
    /// The first attempt's choice among <paramref name="model"/> and its fallbacks, or for a later attempt a
    /// deployment not yet <paramref name="tried"/> if one is left, else a tried one again.
    /// </summary>
    public DeploymentChoice? Select(HttpContext context, RoutedModel model, IReadOnlyList<Deployment>? tried)
    {
        if (tried is { Count: > 0 })
        {
            return SelectInChain(context, model, tried, untriedOnly: true) ?? SelectInChain(context, model, tried, untriedOnly: false);
        }

        return SelectInChain(context, model, tried: null, untriedOnly: false);
    }

    /// <summary>Whether a deployment that has not failed this request could take the next attempt at once.</summary>
    public bool HasUntried(RoutedModel model, IReadOnlyList<Deployment> tried)
    {
        if (HasUntriedIn(model, tried))
        {
            return true;
        }

        foreach (var fallback in model.Fallbacks)
        {
            if (HasUntriedIn(fallback, tried))
            {
                return true;
            }
        }

        return false;
    }

    private DeploymentChoice? SelectInChain(HttpContext context, RoutedModel model, IReadOnlyList<Deployment>? tried, bool untriedOnly)
    {
        if (SelectIn(context, model, tried, untriedOnly) is { } choice)
        {
            return choice;
        }

        foreach (var fallback in model.Fallbacks)
        {
            if (SelectIn(context, fallback, tried, untriedOnly) is { } fallbackChoice)
            {
                return fallbackChoice;
            }
        }

        return null;
    }

    private DeploymentChoice? SelectIn(HttpContext context, RoutedModel model, IReadOnlyList<Deployment>? tried, bool untriedOnly)
    {
        if (!_proxyState.TryGetCluster(model.ClusterId, out var cluster))
        {
            return null;
        }

        var destinations = cluster.DestinationsState.AvailableDestinations;
        if (destinations.Count == 1)
        {
            // One deployment (the common case): no candidate list, no policy.
            var only = destinations[0];
            return model.ByDestinationId.TryGetValue(only.DestinationId, out var deployment) && MayTake(deployment, tried, untriedOnly)
                ? new DeploymentChoice(deployment, cluster, only)
                : null;
        }

        var bestPriority = int.MaxValue;
        var count = 0;
        for (var i = 0; i < destinations.Count; i++)
        {
            if (model.ByDestinationId.TryGetValue(destinations[i].DestinationId, out var deployment) && MayTake(deployment, tried, untriedOnly))
            {
                if (deployment.Priority < bestPriority)
                {
                    bestPriority = deployment.Priority;
                    count = 0;
                }

                if (deployment.Priority == bestPriority)
                {
                    count++;
                }
            }
        }

        if (count == 0)
        {
            return null;
        }

        var candidates = new List<DestinationState>(count);
        for (var i = 0; i < destinations.Count; i++)
        {
            if (model.ByDestinationId.TryGetValue(destinations[i].DestinationId, out var deployment)
                && deployment.Priority == bestPriority
                && MayTake(deployment, tried, untriedOnly))
            {
                candidates.Add(destinations[i]);
            }
        }

        var picked = candidates.Count == 1 ? candidates[0] : _policies[model.Strategy].PickDestination(context, cluster, candidates);
        return picked is not null && model.ByDestinationId.TryGetValue(picked.DestinationId, out var chosen)
            ? new DeploymentChoice(chosen, cluster, picked)
            : null;
    }

    private bool HasUntriedIn(RoutedModel model, IReadOnlyList<Deployment> tried)
    {
        if (!_proxyState.TryGetCluster(model.ClusterId, out var cluster))
        {
            return false;
        }

        foreach (var destination in cluster.DestinationsState.AvailableDestinations)
        {
            if (model.ByDestinationId.TryGetValue(destination.DestinationId, out var deployment) && MayTake(deployment, tried, untriedOnly: true))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MayTake(Deployment deployment, IReadOnlyList<Deployment>? tried, bool untriedOnly)
    {
        if (deployment.Breaker is { } breaker && !breaker.AllowsTraffic)
        {
            return false;
        }

        if (!untriedOnly || tried is null)
        {
            return true;
        }

        for (var i = 0; i < tried.Count; i++)
        {
            if (ReferenceEquals(tried[i], deployment))
            {
                return false;
            }
        }

        return true;
    }
}
