using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Parsing;

namespace LlmGateway.Hosting;

/// <summary>
/// A Serilog sink that writes log lines to standard output in batches, from a thread of its own. The thread that logs
/// formats its event into a shared buffer of UTF-8 bytes and goes on: it makes no system call, and the event object
/// dies young. The writer thread wakes once when the buffer stops being empty, waits <c>flushInterval</c> for more
/// lines, and writes them all with one call. Serilog's console sink instead makes one <c>write</c> per event on the
/// request's own thread.
/// </summary>
/// <remarks>
/// <para>Lines from one thread keep their order. If the output cannot take them (a blocked pipe) and the unwritten
/// bytes reach <c>bufferLimitBytes</c>, further events are dropped, counted, and reported in one warning line once the
/// writer catches up. Disposing writes everything pending first; a process that is killed loses at most the last
/// interval's lines.</para>
/// <para>The formatter runs on the threads that log, as with Serilog's console sink, so it must be thread-safe (Serilog's
/// formatters are).</para>
/// </remarks>
public sealed class BatchedConsoleSink : ILogEventSink, IDisposable
{
    /// <summary>The wait after the first line of a batch: lines are at most this late, and under load one write carries this long's lines.</summary>
    public static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>The most unwritten bytes held before events are dropped.</summary>
    public const int DefaultBufferLimitBytes = 4 * 1024 * 1024;

    private const int InitialBufferBytes = 16 * 1024;
    private const int LargestKeptFormattingBuffer = 64 * 1024;
    private static readonly MessageTemplate s_droppedTemplate =
        new MessageTemplateParser().Parse("{DroppedEvents} log events were dropped: the output did not take them as fast as they came");

    [ThreadStatic]
    private static StringWriter? t_text;

    [ThreadStatic]
    private static char[]? t_chars;

    private readonly ITextFormatter _formatter;
    private readonly Stream _output;
    private readonly TimeSpan _flushInterval;
    private readonly int _bufferLimitBytes;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly ManualResetEventSlim _linesWaiting = new(false);
    private readonly ManualResetEventSlim _stopping = new(false);
    private readonly Thread _writer;
    private byte[] _filling = new byte[InitialBufferBytes];
    private byte[] _writing = new byte[InitialBufferBytes];
    private int _filled;
    private long _dropped;
    private bool _disposed;

    /// <param name="formatter">Turns one event into its line (with its own newline).</param>
    /// <param name="output">Where the lines go; the sink does not dispose it.</param>
    /// <param name="flushInterval">How long the writer waits after the first line of a batch; zero writes at once.</param>
    /// <param name="bufferLimitBytes">The most unwritten bytes held before events are dropped.</param>
    /// <param name="time">The clock that stamps the dropped-events warning.</param>
    public BatchedConsoleSink(ITextFormatter formatter, Stream output, TimeSpan flushInterval, int bufferLimitBytes, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(flushInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferLimitBytes, 1024);
        _formatter = formatter;
        _output = output;
        _flushInterval = flushInterval;
        _bufferLimitBytes = bufferLimitBytes;
        _time = time ?? TimeProvider.System;
        _writer = new Thread(WriteBatches) { IsBackground = true, Name = "Log writer" };
        _writer.Start();
    }

    public void Emit(LogEvent logEvent)
    {
        // The thread's buffers are taken out of their slots while in use: a property whose ToString logs (re-entering
        // on this thread) gets buffers of its own instead of clearing these.
        var text = t_text ?? new StringWriter(new StringBuilder(1024), CultureInfo.InvariantCulture);
        t_text = null;
        var builder = text.GetStringBuilder();
        builder.Clear();
        try
        {
            _formatter.Format(logEvent, text);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            SelfLog.WriteLine("A log event could not be formatted: {0}", e);
            t_text = text;
            return;
        }

        var length = builder.Length;
        var chars = t_chars is { } reused && reused.Length >= length ? reused : new char[Math.Max(length, 1024)];
        t_chars = null;
        builder.CopyTo(0, chars, 0, length);
        Append(chars.AsSpan(0, length));
        if (builder.Capacity <= LargestKeptFormattingBuffer)
        {
            t_text = text;
            t_chars = chars;
        }
    }

    /// <summary>Writes every line logged so far, then stops the writer thread.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stopping.Set();
        _linesWaiting.Set();
        if (!_writer.Join(TimeSpan.FromSeconds(10)))
        {
            SelfLog.WriteLine("The log writer did not finish within 10 s; lines still pending are lost");
            return;
        }

        _linesWaiting.Dispose();
        _stopping.Dispose();
    }

    private void Append(ReadOnlySpan<char> line)
    {
        var byteCount = Encoding.UTF8.GetByteCount(line);
        lock (_lock)
        {
            if (_filled + byteCount > _bufferLimitBytes || _disposed)
            {
                _dropped++;
                return;
            }

            if (_filled + byteCount > _filling.Length)
            {
                var grown = new byte[Math.Min(_bufferLimitBytes, Math.Max(_filling.Length * 2, _filled + byteCount))];
                _filling.AsSpan(0, _filled).CopyTo(grown);
                _filling = grown;
            }

            var wasEmpty = _filled == 0;
            _filled += Encoding.UTF8.GetBytes(line, _filling.AsSpan(_filled));
            if (wasEmpty)
            {
                _linesWaiting.Set();
            }
        }
    }

    private void WriteBatches()
    {
        while (true)
        {
            _linesWaiting.Wait();
            _linesWaiting.Reset();
            if (_flushInterval > TimeSpan.Zero)
            {
                _stopping.Wait(_flushInterval);
            }

            int count;
            long dropped;
            lock (_lock)
            {
                (_filling, _writing) = (_writing, _filling);
                count = _filled;
                _filled = 0;
                dropped = _dropped;
                _dropped = 0;
            }

            Write(_writing.AsSpan(0, count));
            if (dropped > 0)
            {
                ReportDropped(dropped);
            }

            if (_stopping.IsSet)
            {
                lock (_lock)
                {
                    if (_filled == 0)
                    {
                        return;
                    }
                }
            }
        }
    }

    private void ReportDropped(long dropped)
    {
        var warning = new LogEvent(_time.GetUtcNow(), LogEventLevel.Warning, exception: null, s_droppedTemplate,
        [
            new LogEventProperty("DroppedEvents", new ScalarValue(dropped)),
            new LogEventProperty(Constants.SourceContextPropertyName, new ScalarValue(typeof(BatchedConsoleSink).FullName)),
        ]);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        try
        {
            _formatter.Format(warning, text);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            SelfLog.WriteLine("{0} log events were dropped, and the warning could not be formatted: {1}", dropped, e);
            return;
        }

        Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        try
        {
            _output.Write(bytes);
            _output.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
        {
            SelfLog.WriteLine("{0} bytes of log lines could not be written: {1}", bytes.Length, e);
        }
    }
}
