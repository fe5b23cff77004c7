using LlmGateway.Authentication;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.Providers;
using LlmGateway.Proxy;
using LlmGateway.Routing;
using LlmGateway.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace LlmGateway.Hosting;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>Registers the gateway: validated configuration, providers, the model catalog, keys and the proxy.</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection(GatewayOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<GatewayTelemetry>();

        services.AddSingleton<ProviderRegistry>();
        services.AddSingleton<ModelCatalog>();
        services.AddVirtualKeys();
        services.AddMetering();

        services.AddSingleton<GatewayProxyConfigProvider>();
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayProxyConfigProvider>());
        services.AddReverseProxy().AddTransforms(UpstreamHeaderTransforms.Apply);
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, ProviderHttpClientFactory>());
        services.AddHostedService<ProviderStartup>();
        return services;
    }
}
