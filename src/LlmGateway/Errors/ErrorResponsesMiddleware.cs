using System.Diagnostics;
using LlmGateway.Routing;
using LlmGateway.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace LlmGateway.Errors;

/// <summary>
/// The outermost stage: turns unhandled exceptions, forwarding failures and the framework's empty error
/// statuses (404, 405, 413) into OpenAI-shaped errors, so that every failure a client sees parses in its SDK.
/// Being outermost, it also sees how every refused request ended, and has it logged (metered requests log themselves).
/// </summary>
internal sealed partial class ErrorResponsesMiddleware(RequestDelegate next, RequestTelemetry telemetry, ILogger<ErrorResponsesMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var task = next(context);
        if (task.IsCompletedSuccessfully && (context.Response.StatusCode < 400 || context.Response.HasStarted))
        {
            if (context.Response.StatusCode >= 400)
            {
                telemetry.RecordRefusal(context, Stopwatch.GetElapsedTime(started));
            }

            return Task.CompletedTask;
        }

        return AwaitAndDescribeAsync(task, context, started);
    }

    private async Task AwaitAndDescribeAsync(Task inner, HttpContext context, long started)
    {
        try
        {
            try
            {
                await inner;
            }
            catch (BadHttpRequestException exception)
            {
                if (!context.Response.HasStarted)
                {
                    await GatewayError.ForStatus(exception.StatusCode, context.Request.Method, context.Request.Path).WriteAsync(context.Response);
                }

                return;
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
                if (context.Response.HasStarted)
                {
                    throw;
                }

                context.Response.Clear();
                await GatewayError.Internal().WriteAsync(context.Response);
                return;
            }

            if (context.Response.HasStarted || context.Response.StatusCode < 400 || context.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            await Describe(context).WriteAsync(context.Response);
        }
        finally
        {
            if (context.Response.StatusCode >= 400)
            {
                telemetry.RecordRefusal(context, Stopwatch.GetElapsedTime(started));
            }
        }
    }

    private GatewayError Describe(HttpContext context)
    {
        var provider = context.Features.Get<ModelRouteFeature>()?.Route.Provider.Name ?? "upstream";
        var forwarderError = context.Features.Get<IForwarderErrorFeature>();
        if (forwarderError is not null)
        {
            LogForwarderError(logger, forwarderError.Error, provider, forwarderError.Exception?.GetType().Name);
            return forwarderError.Error switch
            {
                ForwarderError.RequestTimedOut => GatewayError.UpstreamTimeout(provider),
                ForwarderError.NoAvailableDestinations => GatewayError.ProviderUnavailable(provider),
                ForwarderError.Request or ForwarderError.RequestCreation => GatewayError.UpstreamUnreachable(provider),
                _ => GatewayError.UpstreamFailed(provider),
            };
        }

        return GatewayError.ForStatus(context.Response.StatusCode, context.Request.Method, context.Request.Path);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Unhandled exception while serving {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);

    // The exception's message is left out on purpose: HttpClient messages can carry upstream URLs and headers.
    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Forwarding to provider {Provider} failed: {ForwarderError} ({ExceptionType})")]
    private static partial void LogForwarderError(ILogger logger, ForwarderError forwarderError, string provider, string? exceptionType);
}
