using LlmGateway.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmGateway.Routing.LoadBalancing;

/// <summary>
/// The routing strategies as YARP load-balancing policies over a model's cluster, whose destinations are the model's
/// deployments. The gateway hands each policy only the deployments that may take the attempt (the best priority, in
/// rotation, not yet failed for this request); a policy picks one of those.
/// </summary>
internal abstract class DeploymentPolicy(ModelCatalog catalog) : ILoadBalancingPolicy
{
    public abstract RoutingStrategy Strategy { get; }

    public string Name => PolicyName(Strategy);

    public static string PolicyName(RoutingStrategy strategy) => "LlmGateway." + strategy;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count <= 1)
        {
            return availableDestinations.Count == 0 ? null : availableDestinations[0];
        }

        return Pick(cluster, availableDestinations);
    }

    protected abstract DestinationState Pick(ClusterState cluster, IReadOnlyList<DestinationState> candidates);

    protected Deployment DeploymentOf(ClusterState cluster, DestinationState destination) =>
        catalog.DeploymentOf(cluster.ClusterId, destination.DestinationId)
        ?? throw new InvalidOperationException($"Destination '{destination.DestinationId}' of cluster '{cluster.ClusterId}' is not a deployment.");
}

internal sealed class WeightedRandomPolicy(ModelCatalog catalog) : DeploymentPolicy(catalog)
{
    public override RoutingStrategy Strategy => RoutingStrategy.WeightedRandom;

    protected override DestinationState Pick(ClusterState cluster, IReadOnlyList<DestinationState> candidates)
    {
        long total = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            total += DeploymentOf(cluster, candidates[i]).Weight;
        }

        var ticket = Random.Shared.NextInt64(total);
        for (var i = 0; i < candidates.Count; i++)
        {
            ticket -= DeploymentOf(cluster, candidates[i]).Weight;
            if (ticket < 0)
            {
                return candidates[i];
            }
        }

        return candidates[^1];
    }
}

internal sealed class LowestLatencyPolicy(ModelCatalog catalog) : DeploymentPolicy(catalog)
{
    public override RoutingStrategy Strategy => RoutingStrategy.LowestLatency;

    protected override DestinationState Pick(ClusterState cluster, IReadOnlyList<DestinationState> candidates)
    {
        // Never-measured deployments count as fastest, so each gets a chance to prove itself; ties go to the
        // deployment configured first.
        var best = candidates[0];
        var bestDeployment = DeploymentOf(cluster, best);
        var bestLatency = Latency(bestDeployment);
        for (var i = 1; i < candidates.Count; i++)
        {
            var deployment = DeploymentOf(cluster, candidates[i]);
            var latency = Latency(deployment);
            if (latency < bestLatency || (latency == bestLatency && deployment.Order < bestDeployment.Order))
            {
                (best, bestDeployment, bestLatency) = (candidates[i], deployment, latency);
            }
        }

        return best;
    }

    private static double Latency(Deployment deployment) =>
        deployment.Latency.Milliseconds is var milliseconds && double.IsNaN(milliseconds) ? double.NegativeInfinity : milliseconds;
}

internal sealed class LeastInFlightPolicy(ModelCatalog catalog) : DeploymentPolicy(catalog)
{
    public override RoutingStrategy Strategy => RoutingStrategy.LeastInFlight;

    protected override DestinationState Pick(ClusterState cluster, IReadOnlyList<DestinationState> candidates)
    {
        // YARP's forwarder counts the requests in flight per destination; ties go to the deployment configured first.
        var best = candidates[0];
        var bestOrder = DeploymentOf(cluster, best).Order;
        for (var i = 1; i < candidates.Count; i++)
        {
            var inFlight = candidates[i].ConcurrentRequestCount;
            var order = DeploymentOf(cluster, candidates[i]).Order;
            if (inFlight < best.ConcurrentRequestCount || (inFlight == best.ConcurrentRequestCount && order < bestOrder))
            {
                (best, bestOrder) = (candidates[i], order);
            }
        }

        return best;
    }
}

internal sealed class OrderedFallbackPolicy(ModelCatalog catalog) : DeploymentPolicy(catalog)
{
    public override RoutingStrategy Strategy => RoutingStrategy.OrderedFallback;

    protected override DestinationState Pick(ClusterState cluster, IReadOnlyList<DestinationState> candidates)
    {
        var best = candidates[0];
        var bestOrder = DeploymentOf(cluster, best).Order;
        for (var i = 1; i < candidates.Count; i++)
        {
            var order = DeploymentOf(cluster, candidates[i]).Order;
            if (order < bestOrder)
            {
                best = candidates[i];
                bestOrder = order;
            }
        }

        return best;
    }
}
