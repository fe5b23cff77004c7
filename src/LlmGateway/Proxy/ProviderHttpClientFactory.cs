using LlmGateway.Providers;
using Yarp.ReverseProxy.Forwarder;

namespace LlmGateway.Proxy;

/// <summary>YARP's client factory, with each provider's connect timeout applied to its cluster's connections.</summary>
internal sealed class ProviderHttpClientFactory(ProviderRegistry providers, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        foreach (var provider in providers.All)
        {
            if (provider.ClusterId == context.ClusterId)
            {
                handler.ConnectTimeout = provider.ConnectTimeout;
            }
        }

        handler.PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2);
    }
}
