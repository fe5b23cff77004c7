using LlmGateway.Configuration;
using LlmGateway.Providers;
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
    private const string AnthropicVersionHeader = "anthropic-version";

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

            var provider = transform.HttpContext.Features.Get<ModelRouteFeature>()?.Route.Provider;
            if (provider?.CredentialHeaderValue is { } credential)
            {
                headers.TryAddWithoutValidation(provider.CredentialHeaderName, credential);
            }

            // A /v1/messages client pins its own version; translated requests get the provider's.
            if (provider?.Type == ProviderType.Anthropic && !headers.Contains(AnthropicVersionHeader))
            {
                headers.TryAddWithoutValidation(AnthropicVersionHeader, provider.ApiVersion);
            }

            if (transform.HttpContext.Features.Get<ProviderTranslationFeature>() is { } translation)
            {
                if (translation.UpstreamPath is { } path)
                {
                    transform.Path = path;
                }

                if (translation.ApiVersion is { } apiVersion)
                {
                    transform.Query.Collection["api-version"] = apiVersion;
                }

                if (translation.TranslatesResponse)
                {
                    // The translators read plain bytes; the client still gets the transport's own compression.
                    headers.Remove("Accept-Encoding");
                }
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

            if (transform.HttpContext.Features.Get<ProviderTranslationFeature>() is { TranslatesResponse: true })
            {
                headers.ContentLength = null;
            }

            return ValueTask.CompletedTask;
        });
    }
}
