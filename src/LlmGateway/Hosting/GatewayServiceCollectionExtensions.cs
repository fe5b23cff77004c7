using LlmGateway.Authentication;
using LlmGateway.Caching;
using LlmGateway.Configuration;
using LlmGateway.Guardrails;
using LlmGateway.Metering;
using LlmGateway.Providers;
using LlmGateway.Proxy;
using LlmGateway.Resilience;
using LlmGateway.Routing;
using LlmGateway.Routing.LoadBalancing;
using LlmGateway.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Transforms;

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
        services.TryAddSingleton<Serilog.ILogger>(static _ => Serilog.Log.Logger); // AddGatewayLogging registers the configured one
        services.AddSingleton<RequestLog>();
        services.AddSingleton<RequestTelemetry>();

        services.AddSingleton<ProviderRegistry>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<DeploymentSelector>();
        services.AddSingleton<ILoadBalancingPolicy, WeightedRandomPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, LowestLatencyPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, LeastInFlightPolicy>();
        services.AddSingleton<ILoadBalancingPolicy, OrderedFallbackPolicy>();
        services.AddVirtualKeys();
        services.AddGuardrails(configuration);
        services.AddMetering();
        services.AddCaching();
        services.AddResilience();

        services.AddSingleton<GatewayProxyConfigProvider>();
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayProxyConfigProvider>());
        services.AddReverseProxy()
            .AddTransforms(UpstreamHeaderTransforms.Apply)
            .AddTransforms(static context => context.AddRequestTransform(UpstreamBody.SendInOneWrite))
            .AddTransforms(ResilienceExtensions.ApplyResponseTransforms);
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, ProviderHttpClientFactory>());
        services.AddHostedService<ProviderStartup>();
        services.AddHostedService<NativeMemoryTrimmer>();
        return services;
    }
}
