namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Anthropic's <c>stop_reason</c> and OpenAI's <c>finish_reason</c>, both ways (Anthropic "Handling stop reasons";
/// OpenAI chat completion object).
/// </summary>
internal static class AnthropicStopReasons
{
    /// <summary>
    /// <c>end_turn</c>, <c>stop_sequence</c> and <c>pause_turn</c> end the answer (stop); <c>max_tokens</c> and
    /// <c>model_context_window_exceeded</c> cut it (length); <c>refusal</c> is a content filter.
    /// </summary>
    public static string? ToFinishReason(ReadOnlySpan<byte> stopReason, bool toolUseIsAnswer) => stopReason switch
    {
        _ when stopReason.IsEmpty => null,
        _ when stopReason.SequenceEqual("tool_use"u8) => toolUseIsAnswer ? "stop" : "tool_calls",
        _ when stopReason.SequenceEqual("max_tokens"u8) || stopReason.SequenceEqual("model_context_window_exceeded"u8) => "length",
        _ when stopReason.SequenceEqual("refusal"u8) => "content_filter",
        _ => "stop",
    };

    public static string ToStopReason(string? finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };
}
