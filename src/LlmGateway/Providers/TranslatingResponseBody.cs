using System.Buffers;
using LlmGateway.Errors;
using LlmGateway.Providers.Anthropic;
using Microsoft.AspNetCore.Http.Features;

namespace LlmGateway.Providers;

/// <summary>Which way a response is translated.</summary>
internal enum ResponseDirection
{
    /// <summary>An Anthropic upstream answering an OpenAI client.</summary>
    AnthropicToOpenAi,

    /// <summary>An OpenAI-shaped upstream answering a <c>/v1/messages</c> (Anthropic) client.</summary>
    OpenAiToAnthropic,
}

/// <summary>
/// The response body the forwarder writes into when the upstream speaks another API than the client: streams are
/// translated event by event as bytes arrive and flushed straight through; JSON bodies and errors (small) are
/// buffered and translated once the forwarder is done, so their status can still change (529 → 503).
/// </summary>
/// <remarks>
/// It sits innermost, right above the forwarder, so every outer stage (metering, caching) sees the client's shape.
/// </remarks>
internal sealed class TranslatingResponseBody : Stream
{
    private readonly HttpContext _context;
    private readonly Stream _inner;
    private readonly ResponseDirection _direction;
    private readonly ChatTranslation _translation;
    private readonly long _created;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private MessagesToChatStream? _toChat;
    private ChatToMessagesStream? _toMessages;
    private bool _started;
    private bool _streaming;

    public TranslatingResponseBody(HttpContext context, ResponseDirection direction, ChatTranslation translation, long createdUnixSeconds)
    {
        _context = context;
        _inner = context.Response.Body;
        _direction = direction;
        _translation = translation;
        _created = createdUnixSeconds;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Accept(buffer))
        {
            _inner.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Accept(buffer.Span) && _buffer.WrittenCount > 0)
        {
            await _inner.WriteAsync(_buffer.WrittenMemory, cancellationToken);
            _buffer.ResetWrittenCount();
        }
    }

    public override void Flush()
    {
        if (_streaming)
        {
            _inner.Flush();
        }
    }

    // Buffered bodies are not flushed: the headers must stay unsent until the translated status is known.
    public override Task FlushAsync(CancellationToken cancellationToken) => _streaming ? _inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// Call once the forwarder has finished (after restoring the original body): writes a buffered body's translation,
    /// or the end of a stream that the upstream cut short.
    /// </summary>
    public async Task CompleteAsync()
    {
        if (!_started || _context.RequestAborted.IsCancellationRequested)
        {
            return; // Nothing came back (the error stage answers), or nobody is left to answer.
        }

        var response = _context.Response;
        if (_streaming)
        {
            if (_toChat is not null)
            {
                _toChat.Complete(_buffer);
            }
            else
            {
                _toMessages!.Complete(_buffer);
            }

            if (_buffer.WrittenCount > 0)
            {
                await _inner.WriteAsync(_buffer.WrittenMemory, _context.RequestAborted);
                _buffer.ResetWrittenCount();
            }

            return;
        }

        var body = _buffer.WrittenMemory;
        var translated = new ArrayBufferWriter<byte>(Math.Max(256, body.Length));
        var status = response.StatusCode;
        if (status >= 400)
        {
            if (_direction == ResponseDirection.AnthropicToOpenAi)
            {
                var error = AnthropicErrors.ToOpenAi(status, body.Span);
                response.StatusCode = error.StatusCode;
                error.WriteTo(translated);
            }
            else
            {
                AnthropicErrors.WriteFromOpenAi(status, body.Span, translated);
            }
        }
        else
        {
            var ok = _direction == ResponseDirection.AnthropicToOpenAi
                ? MessagesToChatResponse.Translate(body.Span, _translation, _created, translated)
                : ChatToMessagesResponse.Translate(body.Span, translated);
            if (!ok)
            {
                response.StatusCode = StatusCodes.Status502BadGateway;
                translated.ResetWrittenCount();
                var error = new GatewayError(StatusCodes.Status502BadGateway, "The provider's response could not be translated.", GatewayError.ServerError, "upstream_invalid_response");
                if (_direction == ResponseDirection.AnthropicToOpenAi)
                {
                    error.WriteTo(translated);
                }
                else
                {
                    AnthropicErrors.WriteAnthropicError(translated, "api_error", error.Message);
                }
            }
        }

        response.ContentType = "application/json";
        response.ContentLength = translated.WrittenCount;
        await _inner.WriteAsync(translated.WrittenMemory, _context.RequestAborted);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _toChat?.Dispose();
            _toMessages?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Takes bytes from the forwarder; returns true when translated bytes are ready in the buffer to send on.</summary>
    private bool Accept(ReadOnlySpan<byte> bytes)
    {
        if (!_started)
        {
            _started = true;
            var response = _context.Response;
            _streaming = response.StatusCode < 400
                && response.ContentType is { } contentType
                && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
            if (_streaming)
            {
                _context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                if (_direction == ResponseDirection.AnthropicToOpenAi)
                {
                    _toChat = new MessagesToChatStream(_translation, _created);
                }
                else
                {
                    _toMessages = new ChatToMessagesStream();
                }
            }
        }

        if (!_streaming)
        {
            _buffer.Write(bytes);
            return false;
        }

        if (_toChat is not null)
        {
            _toChat.Translate(bytes, _buffer);
        }
        else
        {
            _toMessages!.Translate(bytes, _buffer);
        }

        return true;
    }
}
