using Serilog;
using Serilog.Formatting.Json;

namespace LlmGateway.Hosting;

public static class GatewayLoggingExtensions
{
    /// <summary>
    /// Routes all logging through Serilog, configured from the <c>Serilog</c> section; without one, JSON lines
    /// on stdout. Nothing the gateway logs carries credentials, prompts or completions.
    /// </summary>
    public static WebApplicationBuilder AddGatewayLogging(this WebApplicationBuilder builder)
    {
        var configuration = new LoggerConfiguration().Enrich.FromLogContext();
        if (builder.Configuration.GetSection("Serilog").Exists())
        {
            configuration.ReadFrom.Configuration(builder.Configuration);
        }
        else
        {
            configuration.MinimumLevel.Information().WriteTo.Console(new JsonFormatter(renderMessage: true));
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(configuration.CreateLogger(), dispose: true);
        return builder;
    }
}
