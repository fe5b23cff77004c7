namespace LlmGateway.Responses;

/// <summary>
/// A response body held in memory until a stage has seen all of it (the output guards), in buffers from the shared
/// pool: an answer costs no allocation, where a <see cref="MemoryStream"/> grew a new array at every doubling.
/// Seekable only as far as <c>HttpResponse.Clear()</c> needs, to discard what an inner stage wrote before it failed.
/// </summary>
internal sealed class HeldResponseBody : Stream
{
    private byte[]? _buffer;
    private int _length;

    /// <summary>The bytes written so far; valid until the next write or disposal.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public override bool CanRead => false;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void SetLength(long value)
    {
        if (value != 0)
        {
            throw new NotSupportedException("A held response body can only be discarded as a whole.");
        }

        _length = 0;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        PooledBytes.EnsureCapacity(ref _buffer, _length, _length + buffer.Length);
        buffer.CopyTo(_buffer.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            PooledBytes.Return(ref _buffer);
            _length = 0;
        }

        base.Dispose(disposing);
    }
}
