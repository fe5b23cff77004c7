using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LlmGateway.Guardrails;

public static class GuardrailsExtensions
{
    /// <summary>Registers guardrail policies from <c>Gateway:Guardrails</c>, validated at start-up.</summary>
    public static IServiceCollection AddGuardrails(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GuardrailsOptions>()
            .Bind(configuration.GetSection(GuardrailsOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GuardrailsOptions>, GuardrailsOptionsValidator>());
        services.TryAddSingleton<GuardrailPolicies>();
        services.TryAddSingleton<GuardrailTelemetry>();
        services.TryAddSingleton<WatcherClient>();
        services.AddHttpClient(WatcherClient.HttpClientName);
        return services;
    }

    /// <summary>Runs the requested model's guardrail policy: input guards before routing, output guards on answers.</summary>
    public static IReverseProxyApplicationBuilder UseGuardrails(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<GuardrailsMiddleware>();
        return proxy;
    }
}
