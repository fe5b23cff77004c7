namespace LlmGateway.Parsing;

public static class RequestParsingExtensions
{
    /// <summary>Reads the body once and parses it into <see cref="LlmRequestFeature"/> for the later stages.</summary>
    public static IReverseProxyApplicationBuilder UseRequestParsing(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<RequestParsingMiddleware>();
        return proxy;
    }
}
