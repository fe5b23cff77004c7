using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace LlmGateway.Responses;

/// <summary>
/// Wraps the response body on its way to the client. A <c>text/event-stream</c> is split into events as it flows:
/// each complete event goes to the observers and then on to the client at once; only the bytes of an unfinished
/// event wait for the rest of it. A JSON body is held back until complete so observers can still set headers.
/// Anything else passes through untouched.
/// </summary>
internal sealed class ObservedResponseBody : Stream, IHttpResponseBodyFeature
{
    private readonly HttpContext _context;
    private readonly int _maxBodyBytes;
    private IResponseObserver[] _observers = [];
    private IResponseEventRewriter? _rewriter;
    private ArrayBufferWriter<byte>? _rewrittenData;
    private byte[]? _replacements;
    private int _replacementsLength;
    private bool _endedForClient;
    private Mode _mode;
    private byte[]? _pending;
    private int _pendingLength;
    private byte[]? _scratch;
    private PipeWriter? _writer;

    public ObservedResponseBody(HttpContext context, int maxBodyBytes)
    {
        _context = context;
        _maxBodyBytes = maxBodyBytes;
        Inner = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
    }

    private enum Mode
    {
        Undecided,
        EventStream,
        BufferedBody,
        PassThrough,
    }

    public IHttpResponseBodyFeature Inner { get; }

    public bool IsBuffered => _mode == Mode.BufferedBody;

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    public override bool CanRead => false;

    // Seekable only while the body is held back, so that HttpResponse.Clear() can discard it before it was sent.
    public override bool CanSeek => _mode == Mode.BufferedBody;

    public override bool CanWrite => true;

    public override long Length => CanSeek ? _pendingLength : throw new NotSupportedException();

    public override long Position
    {
        get => CanSeek ? _pendingLength : throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public void Add(IResponseObserver observer)
    {
        if (observer is IResponseEventRewriter rewriter)
        {
            if (_rewriter is not null)
            {
                throw new InvalidOperationException("A response can have only one event rewriter.");
            }

            _rewriter = rewriter;
        }

        _observers = [.. _observers, observer];
    }

    public void DisableBuffering() => Inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        Decide();
        return _mode == Mode.BufferedBody ? Task.CompletedTask : Inner.StartAsync(cancellationToken);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await FinishAsync(deliver: true);
        await Inner.CompleteAsync();
    }

    public override void SetLength(long value)
    {
        if (!CanSeek || value != 0)
        {
            throw new NotSupportedException();
        }

        _pendingLength = 0;
        _mode = Mode.Undecided;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _mode is Mode.BufferedBody or Mode.Undecided ? Task.CompletedTask : Inner.Stream.FlushAsync(cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_mode == Mode.Undecided)
        {
            Decide();
        }

        switch (_mode)
        {
            case Mode.EventStream:
                return WriteEventsAsync(buffer, cancellationToken);
            case Mode.BufferedBody:
                if (_pendingLength + buffer.Length <= _maxBodyBytes)
                {
                    Append(buffer.Span);
                    return ValueTask.CompletedTask;
                }

                return OverflowAsync(buffer, cancellationToken);
            default:
                return Inner.Stream.WriteAsync(buffer, cancellationToken);
        }
    }

    /// <summary>Delivers what was held back: the whole JSON body (after the observers saw it) or an unfinished event's bytes.</summary>
    public async Task FinishAsync(bool deliver)
    {
        if (_pendingLength == 0 || !deliver || _endedForClient)
        {
            _pendingLength = 0;
            return;
        }

        var length = _pendingLength;
        _pendingLength = 0;
        if (_mode == Mode.BufferedBody)
        {
            var body = _pending.AsSpan(0, length);
            foreach (var observer in _observers)
            {
                observer.OnBody(body);
            }

            _mode = Mode.PassThrough;
        }

        // A held-back body goes out at once; the client may be gone by now, which is not an error here.
        try
        {
            await Inner.Stream.WriteAsync(_pending.AsMemory(0, length), _context.RequestAborted);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException && _context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    public void ReleaseBuffers()
    {
        PooledBytes.Return(ref _pending);
        PooledBytes.Return(ref _scratch);
        PooledBytes.Return(ref _replacements);
    }

    private void Decide()
    {
        if (_mode != Mode.Undecided)
        {
            return;
        }

        var response = _context.Response;
        var contentType = response.ContentType;
        if (contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            _mode = Mode.EventStream;
        }
        else if (contentType is not null && contentType.Contains("json", StringComparison.OrdinalIgnoreCase)
                 && (response.ContentLength is null || response.ContentLength <= _maxBodyBytes))
        {
            _mode = Mode.BufferedBody;
        }
        else
        {
            _mode = Mode.PassThrough;
        }
    }

    private async ValueTask OverflowAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        // Too large to hold back: observers miss this body (metering then estimates) and the client gets it as it comes.
        _mode = Mode.PassThrough;
        var held = _pendingLength;
        _pendingLength = 0;
        await Inner.Stream.WriteAsync(_pending.AsMemory(0, held), cancellationToken);
        await Inner.Stream.WriteAsync(buffer, cancellationToken);
    }

    private ValueTask WriteEventsAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        // The previous write has completed (writes are sequential), so its replacement bytes are no longer needed.
        _replacementsLength = 0;
        if (_pendingLength == 0)
        {
            var consumed = ScanEvents(buffer.Span, out var keptRanges);
            if (consumed < buffer.Length)
            {
                Append(buffer.Span[consumed..]);
            }

            return WriteRangesAsync(buffer, keptRanges, 0, cancellationToken);
        }

        // Part of an event is waiting: join it with the new bytes, then deliver from the joined buffer.
        Append(buffer.Span);
        var joined = _pending.AsMemory(0, _pendingLength);
        var used = ScanEvents(joined.Span, out var ranges);
        return WriteRangesAsync(joined, ranges, used, cancellationToken);
    }

    /// <summary>Writes the kept parts, then moves an unfinished event held in <see cref="_pending"/> to its front.</summary>
    private ValueTask WriteRangesAsync(ReadOnlyMemory<byte> source, KeptRanges ranges, int compactFrom, CancellationToken cancellationToken)
    {
        if (ranges.Count == 0)
        {
            Compact(compactFrom);
            return ValueTask.CompletedTask;
        }

        if (ranges.Count == 1)
        {
            var write = Inner.Stream.WriteAsync(Slice(source, ranges.First), cancellationToken);
            if (write.IsCompletedSuccessfully)
            {
                Compact(compactFrom);
                return ValueTask.CompletedTask;
            }

            return AwaitThenCompactAsync(write, compactFrom);
        }

        return WriteSeveralAsync(source, ranges, compactFrom, cancellationToken);
    }

    private ReadOnlyMemory<byte> Slice(ReadOnlyMemory<byte> source, (int Start, int Length, bool FromReplacements) range) =>
        range.FromReplacements ? _replacements.AsMemory(range.Start, range.Length) : source.Slice(range.Start, range.Length);

    private async ValueTask AwaitThenCompactAsync(ValueTask write, int compactFrom)
    {
        await write;
        Compact(compactFrom);
    }

    private async ValueTask WriteSeveralAsync(ReadOnlyMemory<byte> source, KeptRanges ranges, int compactFrom, CancellationToken cancellationToken)
    {
        await Inner.Stream.WriteAsync(Slice(source, ranges.First), cancellationToken);
        foreach (var range in ranges.Rest!)
        {
            await Inner.Stream.WriteAsync(Slice(source, range), cancellationToken);
        }

        Compact(compactFrom);
    }

    private void Compact(int consumed)
    {
        if (consumed == 0)
        {
            return;
        }

        var remaining = _pendingLength - consumed;
        if (remaining > 0)
        {
            _pending.AsSpan(consumed, remaining).CopyTo(_pending);
        }

        _pendingLength = remaining;
    }

    /// <summary>
    /// Finds the complete events in <paramref name="data"/>, shows each to the observers and collects the byte
    /// ranges to forward (adjacent kept events form one range). Returns how many bytes were complete events.
    /// </summary>
    private int ScanEvents(ReadOnlySpan<byte> data, out KeptRanges kept)
    {
        kept = default;
        var start = 0;
        var keptStart = -1;
        while (start < data.Length)
        {
            var end = FindEventEnd(data, start);
            if (end < 0)
            {
                break;
            }

            var disposition = Dispatch(data[start..end], out var replacementStart);
            if (disposition == EventDisposition.Forward)
            {
                if (keptStart < 0)
                {
                    keptStart = start;
                }
            }
            else
            {
                if (keptStart >= 0)
                {
                    kept.Add(keptStart, start - keptStart);
                    keptStart = -1;
                }

                if (disposition == EventDisposition.Replace)
                {
                    kept.Add(replacementStart, _replacementsLength - replacementStart, fromReplacements: true);
                }
            }

            start = end;
        }

        if (keptStart >= 0)
        {
            kept.Add(keptStart, start - keptStart);
        }

        return start;
    }

    /// <summary>Returns the index just past the blank line that ends the event starting at <paramref name="start"/>, or -1.</summary>
    private static int FindEventEnd(ReadOnlySpan<byte> data, int start)
    {
        var position = start;
        while (true)
        {
            var newline = data[position..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return -1;
            }

            position += newline + 1;
            if (position < data.Length && data[position] == (byte)'\n')
            {
                return position + 1;
            }

            if (position + 1 < data.Length && data[position] == (byte)'\r' && data[position + 1] == (byte)'\n')
            {
                return position + 2;
            }
        }
    }

    private enum EventDisposition
    {
        Forward,
        Drop,
        Replace,
    }

    private EventDisposition Dispatch(ReadOnlySpan<byte> rawEvent, out int replacementStart)
    {
        replacementStart = 0;
        ReadOnlySpan<byte> eventType = default;
        ReadOnlySpan<byte> data = default;
        var dataLines = 0;
        var scratchLength = 0;
        var rest = rawEvent;
        while (!rest.IsEmpty)
        {
            var newline = rest.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? default : rest[(newline + 1)..];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.StartsWith("data:"u8))
            {
                var value = FieldValue(line, 5);
                dataLines++;
                if (dataLines == 1)
                {
                    data = value;
                }
                else
                {
                    scratchLength = JoinDataLine(dataLines == 2 ? data : default, value, scratchLength);
                }
            }
            else if (line.StartsWith("event:"u8))
            {
                eventType = FieldValue(line, 6);
            }
        }

        if (dataLines > 1)
        {
            data = _scratch.AsSpan(0, scratchLength);
        }

        var serverSentEvent = new ServerSentEvent(eventType, data);
        var keep = true;
        foreach (var observer in _observers)
        {
            keep &= observer.OnEvent(serverSentEvent);
        }

        if (_endedForClient || !keep)
        {
            return EventDisposition.Drop;
        }

        return _rewriter is null ? EventDisposition.Forward : Rewrite(serverSentEvent, out replacementStart);
    }

    /// <summary>Lets the rewriter change the event; a replacement is framed as an SSE event in <see cref="_replacements"/>.</summary>
    private EventDisposition Rewrite(in ServerSentEvent serverSentEvent, out int replacementStart)
    {
        replacementStart = _replacementsLength;
        var rewrittenData = _rewrittenData ??= new ArrayBufferWriter<byte>(1024);
        rewrittenData.ResetWrittenCount();
        var rewrite = _rewriter!.Rewrite(serverSentEvent, rewrittenData);
        if (rewrite == EventRewrite.Unchanged)
        {
            return EventDisposition.Forward;
        }

        AppendReplacement("data: "u8);
        AppendReplacement(rewrittenData.WrittenSpan);
        AppendReplacement("\n\n"u8);
        if (rewrite == EventRewrite.ReplacedAndEnded)
        {
            AppendReplacement("data: [DONE]\n\n"u8);
            _endedForClient = true;
        }

        return EventDisposition.Replace;
    }

    private void AppendReplacement(ReadOnlySpan<byte> bytes)
    {
        PooledBytes.EnsureCapacity(ref _replacements, _replacementsLength, _replacementsLength + bytes.Length);
        bytes.CopyTo(_replacements.AsSpan(_replacementsLength));
        _replacementsLength += bytes.Length;
    }

    private static ReadOnlySpan<byte> FieldValue(ReadOnlySpan<byte> line, int nameLength)
    {
        var value = line[nameLength..];
        return !value.IsEmpty && value[0] == (byte)' ' ? value[1..] : value;
    }

    private int JoinDataLine(ReadOnlySpan<byte> first, ReadOnlySpan<byte> next, int length)
    {
        var needed = length + first.Length + 1 + next.Length;
        PooledBytes.EnsureCapacity(ref _scratch, length, needed);
        if (!first.IsEmpty)
        {
            first.CopyTo(_scratch.AsSpan(length));
            length += first.Length;
        }

        _scratch![length++] = (byte)'\n';
        next.CopyTo(_scratch.AsSpan(length));
        return length + next.Length;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        PooledBytes.EnsureCapacity(ref _pending, _pendingLength, _pendingLength + bytes.Length);
        bytes.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += bytes.Length;
    }

    /// <summary>The byte ranges of one write to forward; the first is inline so the common case allocates nothing.</summary>
    private struct KeptRanges
    {
        public (int Start, int Length, bool FromReplacements) First;
        public List<(int Start, int Length, bool FromReplacements)>? Rest;
        public int Count;

        public void Add(int start, int length, bool fromReplacements = false)
        {
            if (Count++ == 0)
            {
                First = (start, length, fromReplacements);
            }
            else
            {
                (Rest ??= []).Add((start, length, fromReplacements));
            }
        }
    }
}
