namespace LlmGateway.Resilience;

internal enum AttemptResult
{
    /// <summary>The upstream's answer went to the client as it came, success or client error alike.</summary>
    Passed,

    /// <summary>429 or 5xx passed to the client because no attempt was left.</summary>
    PassedFailure,

    /// <summary>429 or 5xx before any byte reached the client; the answer was held back.</summary>
    RetryableStatus,

    /// <summary>400 <c>context_length_exceeded</c> held back, for a model with a larger-context fallback.</summary>
    ContextWindowExceeded,

    /// <summary>A client error held back while checking for <c>context_length_exceeded</c>; it is not one.</summary>
    HeldClientError,

    /// <summary>No connection, a reset, or a broken response before any byte reached the client.</summary>
    ConnectionFailed,

    /// <summary>The upstream stayed silent past the model's response timeout before any byte reached the client.</summary>
    TimedOut,

    /// <summary>The upstream failed after bytes had reached the client: the one failure that is never retried.</summary>
    FailedMidResponse,

    /// <summary>The request's total deadline passed.</summary>
    DeadlineExceeded,

    /// <summary>The client went away.</summary>
    ClientGone,

    /// <summary>No deployment could take the attempt: every breaker open, or none started.</summary>
    NoDeployment,
}

/// <summary>How one attempt ended, and for a 429/503 how long the upstream asked us to wait.</summary>
internal readonly record struct AttemptOutcome(AttemptResult Result, TimeSpan? RetryAfter = null)
{
    /// <summary>
    /// The attempts of the request this outcome ended, attached when it is handed to Polly, so that the retry
    /// callbacks can ask them about the next attempt without a per-request property bag on the Polly context.
    /// </summary>
    public AttemptContext? Attempts { get; init; }

    /// <summary>Failures that count against a deployment's circuit breaker.</summary>
    public bool IsDeploymentFailure => Result is AttemptResult.RetryableStatus or AttemptResult.PassedFailure or AttemptResult.ConnectionFailed
        or AttemptResult.TimedOut or AttemptResult.FailedMidResponse;

    /// <summary>Failures another attempt may cure (nothing has reached the client yet).</summary>
    public bool IsRetryable => Result is AttemptResult.RetryableStatus or AttemptResult.ContextWindowExceeded
        or AttemptResult.ConnectionFailed or AttemptResult.TimedOut;
}
