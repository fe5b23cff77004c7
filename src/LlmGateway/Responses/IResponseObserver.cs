namespace LlmGateway.Responses;

/// <summary>
/// Sees the response on its way to the client, without buffering a stream: metering reads usage from it, and
/// caching and guardrails can plug into the same events. Register one with <see cref="ResponseObservation.Observe"/>.
/// </summary>
/// <remarks>
/// Observers run on the request's thread while the response is written; they must be quick and must not block.
/// The spans they are handed are valid only during the call.
/// </remarks>
public interface IResponseObserver
{
    /// <summary>
    /// One complete server-sent event of a <c>text/event-stream</c> response, before it reaches the client.
    /// Return <see langword="false"/> to drop the event from the client's stream.
    /// </summary>
    bool OnEvent(in ServerSentEvent serverSentEvent);

    /// <summary>
    /// The complete body of a JSON response, held back until the upstream finished so that observers can still
    /// add response headers (they run before the status line and headers are sent).
    /// </summary>
    void OnBody(ReadOnlySpan<byte> body);
}

/// <summary>One event of a server-sent-event stream: its <c>event:</c> type (empty when absent) and its data.</summary>
public readonly ref struct ServerSentEvent(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data)
{
    public ReadOnlySpan<byte> EventType { get; } = eventType;

    /// <summary>The event's data lines, joined with <c>\n</c> as the SSE specification says.</summary>
    public ReadOnlySpan<byte> Data { get; } = data;

    /// <summary>Whether this is OpenAI's <c>data: [DONE]</c> terminator.</summary>
    public bool IsDone => Data.SequenceEqual("[DONE]"u8);
}
