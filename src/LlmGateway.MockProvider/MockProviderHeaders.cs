namespace LlmGateway.MockProvider;

/// <summary>Request headers that override <see cref="MockProviderOptions"/> for one request.</summary>
public static class MockProviderHeaders
{
    /// <summary>Milliseconds before the first byte. Overrides <see cref="MockProviderOptions.TimeToFirstTokenMs"/>.</summary>
    public const string TimeToFirstTokenMs = "x-mock-ttft-ms";

    /// <summary>Milliseconds between streamed tokens. Overrides <see cref="MockProviderOptions.TokenDelayMs"/>.</summary>
    public const string TokenDelayMs = "x-mock-token-delay-ms";

    /// <summary>Completion tokens in the answer. Overrides <see cref="MockProviderOptions.CompletionTokens"/>.</summary>
    public const string CompletionTokens = "x-mock-completion-tokens";

    /// <summary>Forced error status, 400-599; 0 turns a configured error off. Overrides <see cref="MockProviderOptions.ErrorStatus"/>.</summary>
    public const string ErrorStatus = "x-mock-error-status";

    /// <summary>The <c>error.code</c> of a forced error. Overrides <see cref="MockProviderOptions.ErrorCode"/>.</summary>
    public const string ErrorCode = "x-mock-error-code";

    /// <summary>Seconds for the <c>Retry-After</c> header of a forced error. Overrides <see cref="MockProviderOptions.RetryAfterSeconds"/>.</summary>
    public const string RetryAfter = "x-mock-retry-after";

    /// <summary>Abort a stream after this many tokens; -1 turns a configured failure off. Overrides <see cref="MockProviderOptions.FailAfterTokens"/>.</summary>
    public const string FailAfterTokens = "x-mock-fail-after-tokens";

    /// <summary>
    /// Name of the function to call: when the chat request has <c>tools</c> and its last message is from the user,
    /// the answer is a call of this function instead of text.
    /// </summary>
    public const string ToolCall = "x-mock-tool-call";

    /// <summary>
    /// The answer's text, instead of the echo: its whitespace-separated words are the tokens (each streamed as one
    /// chunk). Overrides <see cref="MockProviderOptions.AnswerText"/>.
    /// </summary>
    public const string Answer = "x-mock-answer";
}
