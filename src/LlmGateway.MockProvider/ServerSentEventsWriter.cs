using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace LlmGateway.MockProvider;

/// <summary>
/// Writes <c>text/event-stream</c> events straight into the response pipe, one JSON payload each, and flushes every
/// event on its own so that clients (and a gateway in between) see tokens as they are produced.
/// </summary>
internal sealed class ServerSentEventsWriter : IDisposable
{
    private readonly HttpResponse _response;
    private readonly PipeWriter _pipe;
    private readonly Utf8JsonWriter _json;

    private ServerSentEventsWriter(HttpResponse response)
    {
        _response = response;
        _pipe = response.BodyWriter;
        _json = new Utf8JsonWriter(_pipe, MockJson.WriterOptions);
    }

    /// <summary>Sets the status and headers of an event stream; they go out with the first event.</summary>
    public static ServerSentEventsWriter Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return new ServerSentEventsWriter(response);
    }

    /// <summary>Starts an event and returns the writer for its JSON payload; finish it with <see cref="EndEventAsync"/>.</summary>
    public Utf8JsonWriter BeginEvent(ReadOnlySpan<byte> eventName = default)
    {
        if (!eventName.IsEmpty)
        {
            _pipe.Write("event: "u8);
            _pipe.Write(eventName);
            _pipe.Write("\n"u8);
        }

        _pipe.Write("data: "u8);
        _json.Reset(_pipe);
        return _json;
    }

    /// <summary>Ends the event and flushes it. Returns false once the client has gone, so the caller can stop.</summary>
    public async ValueTask<bool> EndEventAsync()
    {
        _json.Flush();
        _pipe.Write("\n\n"u8);
        var result = await _pipe.FlushAsync(_response.HttpContext.RequestAborted);
        return !result.IsCompleted && !result.IsCanceled;
    }

    /// <summary>Writes OpenAI's end-of-stream sentinel, <c>data: [DONE]</c>.</summary>
    public async ValueTask WriteDoneAsync()
    {
        _pipe.Write("data: [DONE]\n\n"u8);
        await _pipe.FlushAsync(_response.HttpContext.RequestAborted);
    }

    public void Dispose() => _json.Dispose();
}
