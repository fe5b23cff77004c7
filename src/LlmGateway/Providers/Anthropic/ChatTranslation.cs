namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// What the response translation needs to know about the request it answers: whether the client streams, whether
/// it wants the final usage chunk, and the name of the tool that emulates JSON mode (its input is the answer).
/// </summary>
internal sealed record ChatTranslation(bool Stream, bool IncludeUsage, string? JsonResponseTool)
{
    /// <summary>The tool that carries a <c>response_format: json_object</c> answer.</summary>
    public const string JsonObjectTool = "json_object";
}
