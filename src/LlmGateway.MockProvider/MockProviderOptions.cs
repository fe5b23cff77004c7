namespace LlmGateway.MockProvider;

/// <summary>
/// Defaults for every request the mock provider serves. Each behaviour knob can be overridden for one request by
/// the matching header in <see cref="MockProviderHeaders"/>; <see cref="RequiredApiKey"/>,
/// <see cref="EmbeddingDimensions"/> and <see cref="Models"/> are options only.
/// </summary>
/// <remarks>
/// The instance is read on every request, so a test that holds <see cref="MockProviderServer.Options"/> can change
/// the behaviour of a running server (for example, make an upstream start failing) without restarting it.
/// </remarks>
public sealed class MockProviderOptions
{
    /// <summary>The configuration section the standalone mock binds: <c>--MockProvider:TimeToFirstTokenMs=50</c>.</summary>
    public const string SectionName = "MockProvider";

    /// <summary>The upper bound of <see cref="CompletionTokens"/>, so a typo cannot make the mock allocate gigabytes.</summary>
    public const int MaxCompletionTokens = 100_000;

    /// <summary>The upper bound of an embedding's dimensions.</summary>
    public const int MaxEmbeddingDimensions = 8192;

    /// <summary>Delay before the first byte of every response, streaming or not (header <c>x-mock-ttft-ms</c>).</summary>
    public int TimeToFirstTokenMs { get; set; }

    /// <summary>Delay between two streamed tokens (header <c>x-mock-token-delay-ms</c>).</summary>
    public int TokenDelayMs { get; set; }

    /// <summary>Completion tokens in an answer before any <c>max_tokens</c> cap (header <c>x-mock-completion-tokens</c>).</summary>
    public int CompletionTokens { get; set; } = 16;

    /// <summary>
    /// When set, every request is answered with this HTTP status and an OpenAI-shaped error body instead of a
    /// completion (header <c>x-mock-error-status</c>; the header value 0 turns a configured error off).
    /// </summary>
    public int? ErrorStatus { get; set; }

    /// <summary>Overrides the <c>error.code</c> of a forced error, e.g. <c>context_length_exceeded</c> (header <c>x-mock-error-code</c>).</summary>
    public string? ErrorCode { get; set; }

    /// <summary>Adds <c>Retry-After: N</c> to a forced error (header <c>x-mock-retry-after</c>).</summary>
    public int? RetryAfterSeconds { get; set; }

    /// <summary>
    /// For streams: after this many tokens the connection is aborted without a terminating event, as when an
    /// upstream dies mid-stream (header <c>x-mock-fail-after-tokens</c>; the header value -1 turns a configured
    /// failure off). Non-streaming requests are not affected.
    /// </summary>
    public int? FailAfterTokens { get; set; }

    /// <summary>
    /// When set, every answer is this text instead of the echo of the question, one token per whitespace-separated
    /// word (header <c>x-mock-answer</c>). A judge model that must say "unsafe" is this option set to <c>unsafe</c>.
    /// </summary>
    public string? AnswerText { get; set; }

    /// <summary>
    /// The next this-many requests are answered with <see cref="FailNextStatus"/> (with <see cref="RetryAfterSeconds"/>
    /// and <see cref="ErrorCode"/> when set), each one counting the number down; then requests succeed again. Lets a
    /// test make an upstream fail a few times and recover, as a retrying gateway sees it. Options only.
    /// </summary>
    public int FailNextRequests
    {
        get => Volatile.Read(ref _failNextRequests);
        set => Volatile.Write(ref _failNextRequests, value);
    }

    /// <summary>The status of the failures <see cref="FailNextRequests"/> asks for.</summary>
    public int FailNextStatus { get; set; } = 503;

    /// <summary>
    /// When set, a request must carry the key or it gets 401: <c>Authorization: Bearer &lt;key&gt;</c> or Azure's
    /// <c>api-key</c> on the OpenAI endpoints; <c>x-api-key</c> (or a bearer token) plus <c>anthropic-version</c> on
    /// <c>/v1/messages</c>.
    /// </summary>
    public string? RequiredApiKey { get; set; }

    /// <summary>Embedding dimensions when a request does not ask for <c>dimensions</c>.</summary>
    public int EmbeddingDimensions { get; set; } = 256;

    /// <summary>
    /// The models <c>GET /v1/models</c> lists. Requests for other models are still answered: a gateway under test
    /// may rewrite model names, and the mock echoes whatever model it was asked for.
    /// </summary>
    /// <remarks>
    /// Defaults to <c>mock-gpt</c>, <c>mock-gpt-large</c> and <c>mock-embed</c> when empty. It starts empty because
    /// configuration binding appends to a list rather than replacing it.
    /// </remarks>
    public IList<string> Models { get; } = [];

    /// <summary>Takes one of the failures <see cref="FailNextRequests"/> asked for, if any is left.</summary>
    internal bool TryTakeFailure()
    {
        while (true)
        {
            var left = Volatile.Read(ref _failNextRequests);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _failNextRequests, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    private int _failNextRequests;

    internal static readonly string[] DefaultModels = ["mock-gpt", "mock-gpt-large", "mock-embed"];
}
