using LlmGateway.Parsing;

namespace LlmGateway.Routing;

/// <summary>The OpenAI API operations the gateway proxies, one YARP route each.</summary>
internal static class ApiRoutes
{
    public static readonly IReadOnlyList<(string RouteId, string Path, LlmOperation Operation)> All =
    [
        ("chat-completions", "/v1/chat/completions", LlmOperation.ChatCompletions),
        ("completions", "/v1/completions", LlmOperation.Completions),
        ("embeddings", "/v1/embeddings", LlmOperation.Embeddings),
        ("responses", "/v1/responses", LlmOperation.Responses),
    ];

    public static LlmOperation OperationOf(string routeId) => routeId switch
    {
        "chat-completions" => LlmOperation.ChatCompletions,
        "completions" => LlmOperation.Completions,
        "embeddings" => LlmOperation.Embeddings,
        "responses" => LlmOperation.Responses,
        _ => throw new InvalidOperationException($"Route '{routeId}' is not an API route."),
    };
}
