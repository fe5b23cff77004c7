namespace LlmGateway.Routing;

public static class ModelRoutingExtensions
{
    /// <summary>Sends the request to the provider that serves its model.</summary>
    public static IReverseProxyApplicationBuilder UseModelRouting(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<ModelRoutingMiddleware>();
        return proxy;
    }
}
