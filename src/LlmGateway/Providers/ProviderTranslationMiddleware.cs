using System.Buffers;
using System.Text.Json;
using LlmGateway.Configuration;
using LlmGateway.Errors;
using LlmGateway.Parsing;
using LlmGateway.Providers.Anthropic;
using LlmGateway.Providers.Azure;
using LlmGateway.Routing;

namespace LlmGateway.Providers;

/// <summary>
/// The last stage before the forwarder: when the provider speaks another API than the client (an OpenAI client and
/// an Anthropic upstream, or a <c>/v1/messages</c> client and an OpenAI-shaped upstream), rewrites the request body,
/// the upstream path and the response; for Azure OpenAI, addresses the deployment. Everything else passes untouched.
/// </summary>
/// <remarks>
/// Innermost on purpose: outer stages (metering, caching, guardrails) see the request and response in the client's
/// shape. The translation itself lives in <c>Providers/Anthropic</c> as pure, separately tested components.
/// </remarks>
internal sealed partial class ProviderTranslationMiddleware(RequestDelegate next, TimeProvider timeProvider, ILogger<ProviderTranslationMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Runs once per attempt, and an earlier attempt may have gone to a provider of another type.
        context.Features.Set<ProviderTranslationFeature>(null);
        var route = context.Features.Get<ModelRouteFeature>()?.Route;
        var request = context.Features.Get<LlmRequestFeature>();
        if (route is null || request is null)
        {
            return next(context);
        }

        var provider = route.Provider;
        var messagesClient = request.Operation == LlmOperation.Messages;
        if (provider.Type == ProviderType.Anthropic)
        {
            return messagesClient ? next(context) : ToAnthropicAsync(context, request, route);
        }

        if (messagesClient)
        {
            return FromMessagesAsync(context, request, route);
        }

        if (provider.Type == ProviderType.AzureOpenAI)
        {
            return ToAzureAsync(context, request, route);
        }

        return next(context);
    }

    private Task ToAnthropicAsync(HttpContext context, LlmRequestFeature request, ModelRoute route)
    {
        if (request.Operation != LlmOperation.ChatCompletions)
        {
            return UnsupportedOperation(route, context.Request.Path).WriteAsync(context.Response);
        }

        if (!TryGetUpstreamRequest(context, request, out var root))
        {
            return GatewayError.InvalidJson("the request body was rewritten into invalid JSON").WriteAsync(context.Response);
        }

        var body = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        var error = ChatToMessagesRequest.Translate(root, route.UpstreamModel, route.Provider.DefaultMaxTokens, body, out var translation);
        if (error is not null)
        {
            LogUntranslatable(logger, route.Provider.Name, error.Param);
            return error.WriteAsync(context.Response);
        }

        UpstreamBody.Set(context, body.WrittenMemory);
        context.Features.Set(new ProviderTranslationFeature { UpstreamPath = "/messages", TranslatesResponse = true });
        return ForwardTranslatedAsync(context, ResponseDirection.AnthropicToOpenAi, translation);
    }

    private Task FromMessagesAsync(HttpContext context, LlmRequestFeature request, ModelRoute route)
    {
        var provider = route.Provider;
        if (!TryGetUpstreamRequest(context, request, out var root))
        {
            return GatewayError.InvalidJson("the request body was rewritten into invalid JSON").WriteAsync(context.Response);
        }

        var body = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        var useMaxCompletionTokens = provider.Type is ProviderType.OpenAI or ProviderType.AzureOpenAI;
        var error = MessagesToChatRequest.Translate(root, route.UpstreamModel, useMaxCompletionTokens, body, out var stream);
        if (error is not null)
        {
            LogUntranslatable(logger, provider.Name, error.Param);
            return error.WriteAsync(context.Response);
        }

        UpstreamBody.Set(context, body.WrittenMemory);
        var azure = provider.Type == ProviderType.AzureOpenAI;
        context.Features.Set(new ProviderTranslationFeature
        {
            UpstreamPath = azure ? AzureOpenAiAddress.Path(route.UpstreamModel, "chat/completions") : "/chat/completions",
            ApiVersion = azure ? provider.ApiVersion : null,
            TranslatesResponse = true,
        });
        return ForwardTranslatedAsync(context, ResponseDirection.OpenAiToAnthropic, new ChatTranslation(stream, IncludeUsage: true, null));
    }

    private Task ToAzureAsync(HttpContext context, LlmRequestFeature request, ModelRoute route)
    {
        var operation = request.Operation switch
        {
            LlmOperation.ChatCompletions => "chat/completions",
            LlmOperation.Completions => "completions",
            LlmOperation.Embeddings => "embeddings",
            _ => null,
        };
        if (operation is null)
        {
            return UnsupportedOperation(route, context.Request.Path).WriteAsync(context.Response);
        }

        context.Features.Set(new ProviderTranslationFeature
        {
            UpstreamPath = AzureOpenAiAddress.Path(route.UpstreamModel, operation),
            ApiVersion = route.Provider.ApiVersion,
        });
        return next(context);
    }

    private async Task ForwardTranslatedAsync(HttpContext context, ResponseDirection direction, ChatTranslation translation)
    {
        var response = context.Response;
        var original = response.Body;
        await using var translating = new TranslatingResponseBody(context, direction, translation, timeProvider.GetUtcNow().ToUnixTimeSeconds());
        response.Body = translating;
        try
        {
            await next(context);
        }
        finally
        {
            response.Body = original;
        }

        await translating.CompleteAsync();
    }

    /// <summary>
    /// The request to translate: what earlier stages made of it (a guardrail that redacts replaces the parsed request,
    /// metering may have asked for usage), not merely what the client sent. Parsed again only when usage was added.
    /// </summary>
    private static bool TryGetUpstreamRequest(HttpContext context, LlmRequestFeature request, out JsonElement root)
    {
        var body = context.Features.Get<UpstreamBodyFeature>();
        if (body is null || !body.IncludeUsage)
        {
            root = request.Root;
            return true;
        }

        try
        {
            var document = JsonDocument.Parse(UpstreamBody.Compose(body));
            context.Response.RegisterForDispose(document);
            root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            root = default;
            return false;
        }
    }

    private static GatewayError UnsupportedOperation(ModelRoute route, PathString path) =>
        new(StatusCodes.Status400BadRequest,
            $"The model '{route.PublicModel}' is served by provider '{route.Provider.Name}' ({route.Provider.Type}), which does not support {path}.",
            GatewayError.InvalidRequest, "unsupported_operation", "model");

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Request for provider {Provider} cannot be translated (parameter {Param})")]
    private static partial void LogUntranslatable(ILogger logger, string provider, string? param);
}
