using LlmGateway.Errors;
using Microsoft.AspNetCore.Http.Features;
using LlmGateway.Parsing;
using Yarp.ReverseProxy;

namespace LlmGateway.Routing;

/// <summary>
/// Picks where the request goes from its <c>model</c>: resolves the model in the catalog, moves the request to
/// the provider's YARP cluster, and rewrites the body when the upstream knows the model by another name.
/// </summary>
internal sealed partial class ModelRoutingMiddleware(RequestDelegate next, ModelCatalog catalog, IProxyStateLookup proxyState, ILogger<ModelRoutingMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var route = catalog.Resolve(request.Model);
        if (route is null)
        {
            LogUnknownModel(logger, request.Model);
            return GatewayError.ModelNotFound(request.Model).WriteAsync(context.Response);
        }

        if (!proxyState.TryGetCluster(route.Provider.ClusterId, out var cluster) || cluster.DestinationsState.AvailableDestinations.Count == 0)
        {
            return GatewayError.ProviderUnavailable(route.Provider.Name).WriteAsync(context.Response);
        }

        context.Features.Set(new ModelRouteFeature(route));
        context.ReassignProxyRequest(cluster);
        if (!string.Equals(route.UpstreamModel, request.Model, StringComparison.Ordinal))
        {
            UpstreamBody.Set(context, UpstreamBody.WithModel(context, request.Root, request.Body, route.UpstreamModel));
        }

        return next(context);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "No model matches '{Model}'")]
    private static partial void LogUnknownModel(ILogger logger, string model);
}
