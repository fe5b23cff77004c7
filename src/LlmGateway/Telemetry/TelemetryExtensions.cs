using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LlmGateway.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>Registers tracing and metrics: OpenTelemetry providers, the Prometheus scraper, optional OTLP export.</summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());
        services.TryAddSingleton<PrometheusScraper>();
        services.AddHostedService<TelemetryProviders>();
        return services;
    }

    /// <summary>Returns the request's W3C trace context to the client, so a failing call can be found in the traces.</summary>
    public static IApplicationBuilder UseTraceContextResponseHeader(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
            {
                context.Response.Headers["traceparent"] = activity.Id;
            }

            return next(context);
        });

    /// <summary>Maps the Prometheus scrape endpoint (no key needed; it carries key ids and team names, never secrets).</summary>
    public static IEndpointRouteBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (options.PrometheusEnabled)
        {
            endpoints.MapGet(options.PrometheusPath, (PrometheusScraper scraper) =>
                Results.Text(scraper.Scrape(), "text/plain; version=0.0.4; charset=utf-8"));
        }

        return endpoints;
    }
}
