using LlmGateway.Routing;
using LlmGateway.Routing.LoadBalancing;
using Yarp.ReverseProxy.Forwarder;

namespace LlmGateway.Resilience;

/// <summary>
/// The last stage before YARP's forwarder: runs the request's attempts (retries, failover to other deployments and
/// fallback models, circuit breaking, total deadline) and answers for the one that ends the request.
/// </summary>
internal sealed class ResilienceMiddleware(
    RequestDelegate next, DeploymentSelector selector, IHttpForwarder forwarder, TimeProvider timeProvider, ResilienceMetrics metrics,
    ILogger<ResilienceMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<ModelRouteFeature>() is not { } route)
        {
            return next(context);
        }

        return new AttemptContext(context, route, next, selector, forwarder, timeProvider, metrics, logger).RunAsync();
    }
}
