namespace LlmGateway.Providers.Translation;

/// <summary>
/// Splits a <c>text/event-stream</c> into events as bytes arrive, however the network cut them: a line, a field
/// name or a multi-byte character may be split across reads. Only the <c>event</c> and <c>data</c> fields matter
/// to the translators; comments (<c>: ping</c>) and other fields are skipped, as the SSE format prescribes.
/// </summary>
/// <remarks>
/// The spans an event exposes point into this parser's buffers and are valid until the next
/// <see cref="Append"/> or <see cref="TryRead"/>.
/// </remarks>
internal sealed class ServerSentEventParser
{
    private byte[] _pending = new byte[1024];
    private int _start;
    private int _end;

    private byte[] _data = new byte[1024];
    private int _dataLength;
    private bool _hasData;

    private byte[] _eventName = new byte[64];
    private int _eventNameLength;

    /// <summary>Adds bytes read from the network.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_start > 0)
        {
            _pending.AsSpan(_start, _end - _start).CopyTo(_pending);
            _end -= _start;
            _start = 0;
        }

        EnsureCapacity(ref _pending, _end + bytes.Length, _end);
        bytes.CopyTo(_pending.AsSpan(_end));
        _end += bytes.Length;
    }

    /// <summary>Reads the next complete event, if the bytes so far hold one.</summary>
    public bool TryRead(out ReadOnlySpan<byte> eventName, out ReadOnlySpan<byte> data)
    {
        while (true)
        {
            var unread = _pending.AsSpan(_start, _end - _start);
            var newLine = unread.IndexOf((byte)'\n');
            if (newLine < 0)
            {
                eventName = default;
                data = default;
                return false;
            }

            var line = unread[..newLine];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            _start += newLine + 1;
            if (line.IsEmpty)
            {
                if (!_hasData)
                {
                    _eventNameLength = 0;
                    continue;
                }

                eventName = _eventName.AsSpan(0, _eventNameLength);
                data = _data.AsSpan(0, _dataLength);
                _hasData = false;
                _dataLength = 0;
                _eventNameLength = 0;
                return true;
            }

            ReadField(line);
        }
    }

    private void ReadField(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon == 0)
        {
            return; // a comment
        }

        var name = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? default : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (name.SequenceEqual("data"u8))
        {
            var separator = _hasData ? 1 : 0;
            EnsureCapacity(ref _data, _dataLength + separator + value.Length, _dataLength);
            if (_hasData)
            {
                _data[_dataLength++] = (byte)'\n';
            }

            value.CopyTo(_data.AsSpan(_dataLength));
            _dataLength += value.Length;
            _hasData = true;
        }
        else if (name.SequenceEqual("event"u8))
        {
            EnsureCapacity(ref _eventName, value.Length, 0);
            value.CopyTo(_eventName);
            _eventNameLength = value.Length;
        }
    }

    private static void EnsureCapacity(ref byte[] buffer, int needed, int used)
    {
        if (buffer.Length >= needed)
        {
            return;
        }

        var larger = new byte[Math.Max(needed, buffer.Length * 2)];
        buffer.AsSpan(0, used).CopyTo(larger);
        buffer = larger;
    }
}
