using Serilog;
using Serilog.Events;
using Serilog.Formatting.Json;

namespace LlmGateway.Hosting;

public static class GatewayLoggingExtensions
{
    /// <summary>
    /// Routes all logging through Serilog, configured from the <c>Serilog</c> section; without one, JSON lines
    /// on stdout, written in batches from a thread of their own (<see cref="BatchedConsoleSink"/>). Nothing the
    /// gateway logs carries credentials, prompts or completions.
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
            // What the shipped appsettings.json configures. The framework's per-request Information events
            // (request started/finished, proxying to ...) would write two or more lines per request and more
            // than double the CPU each request costs.
            configuration.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
                .MinimumLevel.Override("Yarp", LogEventLevel.Warning)
                .WriteTo.BatchedConsole(new JsonFormatter());
        }

        var logger = configuration.CreateLogger();
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logger, dispose: true);
        builder.Services.AddSingleton<Serilog.ILogger>(logger); // the request log writes its events to it directly (RequestLog)
        return builder;
    }
}
