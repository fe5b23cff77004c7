using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace LlmGateway.Resilience;

public static class ResilienceExtensions
{
    /// <summary>Registers the resilience stage's metrics (attempts by outcome, breaker state).</summary>
    public static IServiceCollection AddResilience(this IServiceCollection services)
    {
        services.TryAddSingleton<ResilienceMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<ResilienceMetrics>());
        return services;
    }

    /// <summary>
    /// Retries, fails over and breaks circuits around YARP's forwarder. Place it last, so that stages before it
    /// (metering, caching) see only the response that reaches the client.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseResilience(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<ResilienceMiddleware>();
        return proxy;
    }

    /// <summary>Lets the resilience stage see each attempt's response headers and hold back an answer it will retry.</summary>
    internal static void ApplyResponseTransforms(TransformBuilderContext context) =>
        context.AddResponseTransform(static transform =>
            transform.ProxyResponse is { } response && transform.HttpContext.Features.Get<AttemptContext>() is { } attempt
                ? attempt.OnResponseAsync(transform, response)
                : ValueTask.CompletedTask);
}
