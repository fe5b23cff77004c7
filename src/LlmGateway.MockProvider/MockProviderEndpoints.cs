using LlmGateway.MockProvider.Anthropic;
using LlmGateway.MockProvider.OpenAI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LlmGateway.MockProvider;

/// <summary>Hosts the mock provider in any ASP.NET Core app: <c>AddMockProvider()</c>, then <c>MapMockProvider()</c>.</summary>
public static class MockProviderEndpoints
{
    /// <summary>
    /// Registers the mock's options, stats and endpoint handlers. Uses <see cref="TimeProvider.System"/> unless a
    /// <see cref="TimeProvider"/> is already registered, so tests can pace the mock with a fake clock.
    /// </summary>
    public static IServiceCollection AddMockProvider(this IServiceCollection services, Action<MockProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<MockProviderOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MockProviderOptions>, MockProviderOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MockProviderStats>();
        services.TryAddSingleton<MockSequence>();
        services.TryAddSingleton<MockStatsEndpoints>();
        services.TryAddSingleton<OpenAIRequestRunner>();
        services.TryAddSingleton<ChatCompletionsEndpoint>();
        services.TryAddSingleton<CompletionsEndpoint>();
        services.TryAddSingleton<EmbeddingsEndpoint>();
        services.TryAddSingleton<ResponsesEndpoint>();
        services.TryAddSingleton<ModelsEndpoint>();
        services.TryAddSingleton<MessagesEndpoint>();
        return services;
    }

    /// <summary>
    /// Maps the OpenAI-compatible endpoints and Anthropic's <c>POST /v1/messages</c> under <c>/v1</c> (anything else under <c>/v1</c> is a 404 in OpenAI's
    /// error shape) and the test endpoints <c>GET /mock/stats</c> and <c>POST /mock/reset</c>. Works on a route
    /// group too, to host the mock under a prefix inside another app.
    /// </summary>
    public static IEndpointRouteBuilder MapMockProvider(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // Handlers are resolved once here rather than per request: they are singletons and the hot path stays a
        // plain delegate call.
        var services = endpoints.ServiceProvider;
        var chat = services.GetRequiredService<ChatCompletionsEndpoint>();
        var completions = services.GetRequiredService<CompletionsEndpoint>();
        var embeddings = services.GetRequiredService<EmbeddingsEndpoint>();
        var responses = services.GetRequiredService<ResponsesEndpoint>();
        var models = services.GetRequiredService<ModelsEndpoint>();
        var messages = services.GetRequiredService<MessagesEndpoint>();
        var runner = services.GetRequiredService<OpenAIRequestRunner>();
        var stats = services.GetRequiredService<MockStatsEndpoints>();

        endpoints.MapPost("/v1/chat/completions", chat.HandleAsync);
        endpoints.MapPost("/v1/completions", completions.HandleAsync);
        endpoints.MapPost("/v1/embeddings", embeddings.HandleAsync);
        endpoints.MapPost("/v1/responses", responses.HandleAsync);
        endpoints.MapPost("/v1/messages", messages.HandleAsync);

        // Azure OpenAI's deployment addressing, for gateways that translate model names into deployments.
        endpoints.MapPost("/openai/deployments/{deployment}/chat/completions", context => AzureDeploymentAsync(context, chat.HandleAsync));
        endpoints.MapPost("/openai/deployments/{deployment}/completions", context => AzureDeploymentAsync(context, completions.HandleAsync));
        endpoints.MapPost("/openai/deployments/{deployment}/embeddings", context => AzureDeploymentAsync(context, embeddings.HandleAsync));
        endpoints.MapGet("/v1/models", models.ListAsync);
        endpoints.MapGet("/v1/models/{id}", models.GetAsync);
        endpoints.Map("/v1/{**rest}", runner.NotFoundAsync);
        endpoints.MapGet("/mock/stats", stats.GetAsync);
        endpoints.MapPost("/mock/reset", stats.ResetAsync);
        return endpoints;
    }

    private static Task AzureDeploymentAsync(HttpContext context, RequestDelegate handle) =>
        context.Request.Query.ContainsKey("api-version")
            ? handle(context)
            : OpenAIErrors.WriteAsync(context, StatusCodes.Status404NotFound, "Resource not found (Azure OpenAI requires the api-version query parameter).", OpenAIErrors.InvalidRequest, "404");
}
