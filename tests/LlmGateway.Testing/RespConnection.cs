using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LlmGateway.Testing;

/// <summary>
/// Just enough of the Redis protocol (RESP2 and RESP3) to send one command and read one whole reply,
/// returned as the raw reply text. Lets tests talk to Redis without a client library.
/// </summary>
internal sealed class RespConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    private RespConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RespConnection> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return new RespConnection(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command and returns its reply exactly as the server sent it.</summary>
    public async Task<string> ExecuteAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(Encode(arguments), cancellationToken);
        var reply = new MemoryStream();
        await ReadReplyAsync(reply, cancellationToken);
        return Encoding.UTF8.GetString(reply.GetBuffer(), 0, (int)reply.Length);
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }

    private static byte[] Encode(IReadOnlyList<string> arguments)
    {
        var command = new StringBuilder();
        command.Append(CultureInfo.InvariantCulture, $"*{arguments.Count}\r\n");
        foreach (var argument in arguments)
        {
            command.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        }

        return Encoding.UTF8.GetBytes(command.ToString());
    }

    private async Task ReadReplyAsync(MemoryStream reply, CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(reply, cancellationToken);
        var type = (char)line[0];
        switch (type)
        {
            // Simple string, error, integer, null, double, boolean, big number: the line is the whole reply.
            case '+' or '-' or ':' or '_' or ',' or '#' or '(':
                return;

            // Bulk string, bulk error, verbatim string: a length, then that many bytes and CRLF.
            case '$' or '!' or '=':
                var length = ParseLength(line);
                if (length >= 0)
                {
                    await CopyAsync(reply, length + 2, cancellationToken);
                }

                return;

            // Array, set, push: that many replies. Map: that many key-value pairs.
            case '*' or '~' or '>' or '%':
                var count = ParseLength(line);
                for (var i = 0; i < (type == '%' ? count * 2 : count); i++)
                {
                    await ReadReplyAsync(reply, cancellationToken);
                }

                return;

            // Attribute: key-value pairs that precede the actual reply.
            case '|':
                var pairs = ParseLength(line);
                for (var i = 0; i < pairs * 2; i++)
                {
                    await ReadReplyAsync(reply, cancellationToken);
                }

                await ReadReplyAsync(reply, cancellationToken);
                return;

            default:
                throw new InvalidDataException($"Unexpected RESP reply type '{type}' in '{Encoding.UTF8.GetString(line)}'.");
        }
    }

    private static int ParseLength(byte[] line) =>
        int.Parse(Encoding.ASCII.GetString(line, 1, line.Length - 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    /// <summary>Reads one CRLF-terminated line, copies it with its CRLF to the reply, returns it without.</summary>
    private async Task<byte[]> ReadLineAsync(MemoryStream reply, CancellationToken cancellationToken)
    {
        var line = new MemoryStream();
        while (true)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var stop = newline < 0 ? _end : newline + 1;
            line.Write(_buffer, _start, stop - _start);
            _start = stop;
            if (newline >= 0)
            {
                break;
            }
        }

        line.WriteTo(reply);
        var bytes = line.ToArray();
        if (bytes.Length < 3 || bytes[^2] != '\r')
        {
            throw new InvalidDataException($"Malformed RESP line '{Encoding.UTF8.GetString(bytes)}'.");
        }

        return bytes[..^2];
    }

    private async Task CopyAsync(MemoryStream reply, int count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var chunk = Math.Min(count, _end - _start);
            reply.Write(_buffer, _start, chunk);
            _start += chunk;
            count -= chunk;
        }
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await _stream.ReadAsync(_buffer, cancellationToken);
        if (_end == 0)
        {
            throw new IOException("Redis closed the connection before the reply was complete.");
        }
    }
}
