using System.Buffers;
using LlmGateway.Responses;

namespace LlmGateway.Caching;

/// <summary>
/// Captures an upstream answer while it streams to the client, and stores it only when it completed successfully:
/// a JSON body with status 200, or an event stream that reached its end marker (<c>[DONE]</c>, Anthropic's
/// <c>message_stop</c>, the Responses API's <c>response.completed</c>) without an error event. It sees the events
/// as the upstream sent them, before output guardrails rewrite them for this client, so a replay is guarded anew.
/// </summary>
internal sealed class CacheCapture(HttpContext context, int maxEntryBytes, TimeProvider time, Action<CachedResponse> store) : IResponseObserver
{
    private ArrayBufferWriter<byte>? _events;
    private bool _done;

    public bool OnEvent(in ServerSentEvent serverSentEvent)
    {
        if (_done)
        {
            return true;
        }

        var eventType = serverSentEvent.EventType;
        var data = serverSentEvent.Data;
        if (IsFailure(eventType, data))
        {
            _done = true;
            _events = null;
            return true;
        }

        var events = _events ??= new ArrayBufferWriter<byte>(4096);
        if (!eventType.IsEmpty)
        {
            events.Write("event: "u8);
            events.Write(eventType);
            events.Write("\n"u8);
        }

        // A multi-line data field is framed again as one data: line per line.
        var rest = data;
        while (true)
        {
            var newline = rest.IndexOf((byte)'\n');
            events.Write("data: "u8);
            events.Write(newline < 0 ? rest : rest[..newline]);
            events.Write("\n"u8);
            if (newline < 0)
            {
                break;
            }

            rest = rest[(newline + 1)..];
        }

        events.Write("\n"u8);
        if (events.WrittenCount > maxEntryBytes)
        {
            _done = true;
            _events = null;
            return true;
        }

        if (serverSentEvent.IsDone || eventType.SequenceEqual("message_stop"u8) || eventType.SequenceEqual("response.completed"u8))
        {
            _done = true;
            Store(CachedResponseKind.EventStream, events.WrittenMemory);
            _events = null;
        }

        return true;
    }

    public void OnBody(ReadOnlySpan<byte> body)
    {
        if (body.Length <= maxEntryBytes)
        {
            Store(CachedResponseKind.Json, body.ToArray());
        }
    }

    private void Store(CachedResponseKind kind, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        if (response.StatusCode != StatusCodes.Status200OK)
        {
            return;
        }

        store(new CachedResponse(kind, response.ContentType ?? (kind == CachedResponseKind.Json ? "application/json" : "text/event-stream"), body, time.GetUtcNow()));
    }

    private static bool IsFailure(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data) =>
        eventType.SequenceEqual("error"u8) || eventType.SequenceEqual("response.failed"u8) || eventType.SequenceEqual("response.incomplete"u8)
        || data.StartsWith("{\"error\""u8);
}
