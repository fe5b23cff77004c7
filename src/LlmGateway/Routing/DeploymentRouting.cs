using LlmGateway.Parsing;
using Microsoft.AspNetCore.Http.Features;
using LlmGateway.Routing.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace LlmGateway.Routing;

/// <summary>Points the request at a chosen deployment: YARP cluster and destination, route feature, and the body it sends.</summary>
internal static class DeploymentRouting
{
    public static void Apply(HttpContext context, ModelRouteFeature feature, DeploymentChoice choice, LlmRequestFeature request, string publicModel)
    {
        var proxy = context.GetReverseProxyFeature();
        if (!ReferenceEquals(proxy.Cluster, choice.Cluster.Model))
        {
            context.ReassignProxyRequest(choice.Cluster);
            proxy = context.GetReverseProxyFeature();
        }

        // The forwarder sends to the only available destination; the strategy has already chosen it.
        proxy.AvailableDestinations = choice.Destination;

        var route = feature.Route.Through(choice.Deployment, publicModel);
        feature.Route = route;
        context.Features.GetRequiredFeature<UpstreamBodyFeature>().Model = route.UpstreamModel;
        UpstreamBody.Apply(context);
    }
}
