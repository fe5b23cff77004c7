using LlmGateway.Providers;
using LlmGateway.Routing;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace LlmGateway.Proxy;

/// <summary>
/// Builds YARP's routes and clusters from the gateway's configuration: one route per API operation and one
/// cluster per provider. Routes start on a cluster with no destinations; the routing stage moves each request to
/// its provider's cluster once it knows the model.
/// </summary>
internal sealed class GatewayProxyConfigProvider(ProviderRegistry providers) : IProxyConfigProvider
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
        foreach (var provider in providers.All)
        {
            var destinations = provider.BaseAddress is { } address
                ? new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase) { ["primary"] = new() { Address = address.ToString() } }
                : new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
            clusters.Add(new ClusterConfig
            {
                ClusterId = provider.ClusterId,
                Destinations = destinations,
                HttpRequest = new ForwarderRequestConfig { ActivityTimeout = provider.ResponseTimeout },
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
