using LlmGateway.Routing;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace LlmGateway.Proxy;

/// <summary>
/// Header rules for every proxied request: the client's credentials never leave the gateway, the provider's
/// are added, and upstream identifiers of the gateway operator's account never reach clients.
/// </summary>
internal static class UpstreamHeaderTransforms
{
    private static readonly string[] ClientOnlyRequestHeaders =
        ["Authorization", "api-key", "x-api-key", "OpenAI-Organization", "OpenAI-Project", "Cookie"];

    private static readonly string[] OperatorOnlyResponseHeaders =
        ["openai-organization", "openai-project", "Set-Cookie"];

    public static void Apply(TransformBuilderContext context)
    {
        // Client addresses are personal data and none of the provider's business.
        context.AddXForwarded(ForwardedTransformActions.Remove);
        context.AddPathRemovePrefix("/v1");
        context.AddRequestTransform(static transform =>
        {
            var headers = transform.ProxyRequest.Headers;
            foreach (var name in ClientOnlyRequestHeaders)
            {
                headers.Remove(name);
            }

            var route = transform.HttpContext.Features.Get<ModelRouteFeature>();
            if (route?.Route.Provider.AuthorizationHeaderValue is { } authorization)
            {
                headers.TryAddWithoutValidation("Authorization", authorization);
            }

            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(static transform =>
        {
            var headers = transform.HttpContext.Response.Headers;
            foreach (var name in OperatorOnlyResponseHeaders)
            {
                headers.Remove(name);
            }

            return ValueTask.CompletedTask;
        });
    }
}
