using LlmGateway.Routing;
using LlmGateway.Routing.LoadBalancing;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace LlmGateway.Proxy;

/// <summary>
/// Builds YARP's routes and clusters from the gateway's configuration: one route per API operation and one cluster
/// per model, with one destination per deployment. Routes start on a cluster with no destinations; the routing stage
/// moves each request to its model's cluster and deployment once it knows the model.
/// </summary>
internal sealed class GatewayProxyConfigProvider(ModelCatalog catalog) : IProxyConfigProvider
{
    public const string UnroutedClusterId = "unrouted";

    private readonly Lock _lock = new();
    private GatewayProxyConfig? _current;

    public IProxyConfig GetConfig()
    {
        lock (_lock)
        {
            return _current ??= Build();
        }
    }

    /// <summary>Publishes a new configuration, e.g. once an embedded provider has an address.</summary>
    public void Refresh()
    {
        GatewayProxyConfig? previous;
        lock (_lock)
        {
            previous = _current;
            _current = Build();
        }

        previous?.SignalChange();
    }

    private GatewayProxyConfig Build()
    {
        var routes = new List<RouteConfig>(ApiRoutes.All.Count);
        foreach (var (routeId, path, _) in ApiRoutes.All)
        {
            routes.Add(new RouteConfig
            {
                RouteId = routeId,
                ClusterId = UnroutedClusterId,
                Match = new RouteMatch { Path = path, Methods = ["POST"] },
            });
        }

        var clusters = new List<ClusterConfig> { new() { ClusterId = UnroutedClusterId } };
        foreach (var model in catalog.Models)
        {
            var destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
            foreach (var deployment in model.Deployments)
            {
                // An embedded provider has no address until it has started; its deployment joins on the refresh.
                if (deployment.Provider.BaseAddress is { } address)
                {
                    destinations[deployment.Name] = new DestinationConfig { Address = address.ToString() };
                }
            }

            clusters.Add(new ClusterConfig
            {
                ClusterId = model.ClusterId,
                Destinations = destinations,
                LoadBalancingPolicy = DeploymentPolicy.PolicyName(model.Strategy),
                HttpRequest = new ForwarderRequestConfig { ActivityTimeout = model.ResponseTimeout },
            });
        }

        return new GatewayProxyConfig(routes, clusters);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001",
        Justification = "YARP keeps using a configuration's change token after replacing it, so the source is never disposed.")]
    private sealed class GatewayProxyConfig(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public IReadOnlyList<RouteConfig> Routes { get; } = routes;

        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

        public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

        public void SignalChange() => _changed.Cancel();
    }
}
