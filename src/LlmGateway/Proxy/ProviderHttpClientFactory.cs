using LlmGateway.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace LlmGateway.Proxy;

/// <summary>YARP's client factory, with each model's connect timeout applied to its cluster's connections.</summary>
internal sealed class ProviderHttpClientFactory(ModelCatalog catalog, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        foreach (var model in catalog.Models)
        {
            if (string.Equals(model.ClusterId, context.ClusterId, StringComparison.OrdinalIgnoreCase))
            {
                handler.ConnectTimeout = model.ConnectTimeout;
            }
        }

        handler.PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2);
    }
}
