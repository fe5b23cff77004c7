using LlmGateway.Errors;
using LlmGateway.Parsing;
using LlmGateway.Routing.LoadBalancing;
using Microsoft.AspNetCore.Http.Features;

namespace LlmGateway.Routing;

/// <summary>
/// Picks where the request goes from its <c>model</c>: resolves the model in the catalog, lets the model's strategy
/// choose a deployment in rotation (falling back to the model's fallback models when none is), moves the request to
/// that deployment's YARP destination, and rewrites the body when the upstream knows the model by another name.
/// </summary>
internal sealed partial class ModelRoutingMiddleware(RequestDelegate next, ModelCatalog catalog, DeploymentSelector selector, ILogger<ModelRoutingMiddleware> logger)
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

        var feature = new ModelRouteFeature(route);
        context.Features.Set(feature);
        if (selector.Select(context, route.Deployment.Model, tried: null) is not { } choice)
        {
            LogNoDeployment(logger, route.Deployment.Model.Name);
            return GatewayError.DeploymentsUnavailable(route.PublicModel).WriteAsync(context.Response);
        }

        DeploymentRouting.Apply(context, feature, choice, request, route.PublicModel);
        return next(context);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "No model matches '{Model}'")]
    private static partial void LogUnknownModel(ILogger logger, string model);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning,
        Message = "Model {Model}: no deployment can take the request (none has an address yet, or every circuit breaker is open)")]
    private static partial void LogNoDeployment(ILogger logger, string model);
}
