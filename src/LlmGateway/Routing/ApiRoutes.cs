using LlmGateway.Parsing;

namespace LlmGateway.Routing;

/// <summary>The API operations the gateway proxies (OpenAI's, and Anthropic's Messages), one YARP route each.</summary>
internal static class ApiRoutes
{
    public static readonly IReadOnlyList<(string RouteId, string Path, LlmOperation Operation)> All =
    [
        ("chat-completions", "/v1/chat/completions", LlmOperation.ChatCompletions),
        ("completions", "/v1/completions", LlmOperation.Completions),
        ("embeddings", "/v1/embeddings", LlmOperation.Embeddings),
        ("responses", "/v1/responses", LlmOperation.Responses),
        ("messages", "/v1/messages", LlmOperation.Messages),
    ];

    public static LlmOperation OperationOf(string routeId) => routeId switch
    {
        "chat-completions" => LlmOperation.ChatCompletions,
        "completions" => LlmOperation.Completions,
        "embeddings" => LlmOperation.Embeddings,
        "responses" => LlmOperation.Responses,
        "messages" => LlmOperation.Messages,
        _ => throw new InvalidOperationException($"Route '{routeId}' is not an API route."),
    };
}
