namespace LlmGateway.Providers;

public static class ProviderTranslationExtensions
{
    /// <summary>
    /// Translates between the client's API and the provider's (OpenAI ↔ Anthropic, Azure deployments). Register it
    /// last, right before the forwarder, so that every other stage sees the client's shapes.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseProviderTranslation(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<ProviderTranslationMiddleware>();
        return proxy;
    }
}
