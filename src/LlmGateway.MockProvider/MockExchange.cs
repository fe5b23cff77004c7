namespace LlmGateway.MockProvider;

/// <summary>One request being answered: its knobs, its sequence number and the clock that paces it.</summary>
internal sealed class MockExchange(HttpContext context, MockKnobs knobs, long sequence, string model, TimeProvider timeProvider)
{
    public HttpContext Context { get; } = context;

    public MockKnobs Knobs { get; } = knobs;

    /// <summary>Numbers the ids of this response (<c>chatcmpl-mock-7</c>, <c>resp_mock_7</c>, ...).</summary>
    public long Sequence { get; } = sequence;

    /// <summary>The requested model, echoed in the response.</summary>
    public string Model { get; } = model;

    public long CreatedUnixSeconds { get; } = timeProvider.GetUtcNow().ToUnixTimeSeconds();

    public Task WaitForFirstTokenAsync() => DelayAsync(Knobs.TimeToFirstTokenMs);

    public Task WaitBetweenTokensAsync() => DelayAsync(Knobs.TokenDelayMs);

    /// <summary>
    /// Ends a stream that has sent <paramref name="tokensSent"/> tokens, when that is where the test asked it to
    /// die, by throwing <see cref="MockStreamFailureException"/>.
    /// </summary>
    /// <remarks>
    /// Throwing after the response has started makes Kestrel end the response without its end marker: over HTTP/1.1
    /// it sends what was flushed, then closes the connection with no terminating chunk (over HTTP/2 it resets the
    /// stream).
    /// <see cref="HttpContext.Abort"/> would race that: it shuts the socket at once, and events still queued in the
    /// transport, even flushed ones, are lost, so a test could not rely on seeing the first tokens.
    /// </remarks>
    public void FailIfDue(int tokensSent)
    {
        if (Knobs.FailAfterTokens == tokensSent)
        {
            throw new MockStreamFailureException(tokensSent);
        }
    }

    private Task DelayAsync(int milliseconds) =>
        milliseconds <= 0 ? Task.CompletedTask : DelayAtLeastAsync(TimeSpan.FromMilliseconds(milliseconds));

    /// <summary>
    /// Waits at least <paramref name="delay"/> by the clock's timestamps. A timer has millisecond granularity and can
    /// fire up to a millisecond before a delay measured with a high-resolution clock has passed (a 300 ms wait was
    /// once measured as 299.2 ms), and a test that checks "the gateway saw at least the delay" must be able to rely
    /// on it.
    /// </summary>
    private async Task DelayAtLeastAsync(TimeSpan delay)
    {
        var started = timeProvider.GetTimestamp();
        var left = delay;
        do
        {
            await Task.Delay(left, timeProvider, Context.RequestAborted);
            left = delay - timeProvider.GetElapsedTime(started);
        }
        while (left > TimeSpan.Zero);
    }
}
