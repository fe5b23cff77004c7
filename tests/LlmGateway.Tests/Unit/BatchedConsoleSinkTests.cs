using System.Text;
using System.Text.Json;
using LlmGateway.Hosting;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Formatting.Json;
using Serilog.Parsing;

namespace LlmGateway.Tests.Unit;

public sealed class BatchedConsoleSinkTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);
    private static readonly MessageTemplateParser Parser = new();

    [Fact]
    public void EveryEventFromManyThreads_IsWrittenAsOneWholeLine_InEachThreadsOrder_ByDispose()
    {
        var output = new RecordingStream();
        const int threads = 4, perThread = 2_500;
        using (var sink = new BatchedConsoleSink(new JsonFormatter(), output, TimeSpan.FromMilliseconds(1), BatchedConsoleSink.DefaultBufferLimitBytes))
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, thread =>
            {
                for (var i = 0; i < perThread; i++)
                {
                    sink.Emit(Event("Line {Thread} {Sequence} naïve ☃ 🎉", ("Thread", thread), ("Sequence", i)));
                }
            });
        }

        var next = new int[threads];
        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(threads * perThread);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var properties = json.RootElement.GetProperty("Properties");
            var thread = properties.GetProperty("Thread").GetInt32();
            properties.GetProperty("Sequence").GetInt32().ShouldBe(next[thread]++, $"thread {thread}'s lines stay in order");
            json.RootElement.GetProperty("MessageTemplate").GetString().ShouldEndWith("naïve ☃ 🎉");
        }

        next.ShouldAllBe(n => n == perThread);
    }

    [Fact]
    public void LinesLoggedWithinOneInterval_GoOutInOneWrite()
    {
        var output = new RecordingStream();
        using (var sink = new BatchedConsoleSink(new JsonFormatter(), output, Long, BatchedConsoleSink.DefaultBufferLimitBytes))
        {
            for (var i = 0; i < 500; i++)
            {
                sink.Emit(Event("Line {Sequence}", ("Sequence", i)));
            }

            output.Writes.ShouldBe(0, "the writer waits out its interval before writing");
        }

        output.Writes.ShouldBe(1, "disposing cuts the wait short, and the batch goes out with one write");
        output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(500);
    }

    [Fact]
    public void LinesOfEveryLength_AreWrittenWhole()
    {
        // Each thread reuses its formatting buffers: a longer line than any before must grow them, and a very long
        // one must not be kept for ever.
        var output = new RecordingStream();
        string[] messages = ["short", new string('x', 1_500) + "🎉", "also short", string.Concat(Enumerable.Repeat("ab ☃ ", 20_000)), "end"];
        using (var sink = new BatchedConsoleSink(new MessageTemplateTextFormatter("{Message}{NewLine}"), output, Long, BatchedConsoleSink.DefaultBufferLimitBytes))
        {
            foreach (var message in messages)
            {
                sink.Emit(Event(message.Replace("{", "{{", StringComparison.Ordinal)));
            }
        }

        output.Text.ShouldBe(string.Concat(messages.Select(m => m + Environment.NewLine)));
    }

    [Fact]
    public void AnEventLoggedOnTheSameThread_WhileAnotherIsFormatted_LeavesBothLinesWhole()
    {
        var output = new RecordingStream();
        using (var sink = new BatchedConsoleSink(new MessageTemplateTextFormatter("{Message}{NewLine}"), output, Long, BatchedConsoleSink.DefaultBufferLimitBytes))
        {
            var loggingValue = new LogsWhenFormatted(() => sink.Emit(Event("inner line")));
            sink.Emit(Event("outer line with {Value}", ("Value", loggingValue)));
            sink.Emit(Event("next line"));
        }

        output.Text.ShouldBe(string.Join(Environment.NewLine, "inner line", "outer line with a value that logs", "next line", ""));
    }

    [Fact]
    public void WithAZeroInterval_EachLineIsWrittenWithoutWaiting()
    {
        var output = new RecordingStream();
        using var sink = new BatchedConsoleSink(new MessageTemplateTextFormatter("{Message}{NewLine}"), output, TimeSpan.Zero, BatchedConsoleSink.DefaultBufferLimitBytes);

        sink.Emit(Event("first"));

        SpinWait.SpinUntil(() => output.Text.Length > 0, TimeSpan.FromSeconds(30)).ShouldBeTrue();
        output.Text.ShouldBe("first" + Environment.NewLine);
    }

    [Fact]
    public void WhenTheOutputFallsBehind_EventsPastTheLimitAreDropped_CountedExactly_AndReported()
    {
        var output = new RecordingStream { Gate = new ManualResetEventSlim(false) };
        var formatter = new MessageTemplateTextFormatter("{Level:u3} {Message:lj} {SourceContext:l}{NewLine}");
        using (var sink = new BatchedConsoleSink(formatter, output, TimeSpan.Zero, bufferLimitBytes: 4096))
        {
            sink.Emit(Event("first"));
            output.Entered.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken).ShouldBeTrue("the writer is now held inside its write");

            for (var i = 0; i < 1_000; i++)
            {
                sink.Emit(Event("Line {Sequence} padded to about one hundred bytes with words that mean nothing at all", ("Sequence", i)));
            }

            output.Gate.Set();
        }

        // The buffer takes lines while they fit in 4 KiB; the lines only grow, so after the first that does not fit none does.
        var expectedKept = 0;
        for (var held = 0; ; expectedKept++)
        {
            held += Encoding.UTF8.GetByteCount($"INF Line {expectedKept} padded to about one hundred bytes with words that mean nothing at all {Environment.NewLine}");
            if (held > 4096)
            {
                break;
            }
        }

        var lines = output.Text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe("INF first ");
        var kept = lines.Count(l => l.StartsWith("INF Line ", StringComparison.Ordinal));
        kept.ShouldBe(expectedKept);
        var warning = lines.Where(l => l.StartsWith("WRN ", StringComparison.Ordinal)).ShouldHaveSingleItem();
        warning.ShouldBe($"WRN {1_000 - kept} log events were dropped: the output did not take them as fast as they came {typeof(BatchedConsoleSink).FullName}");
        lines.Length.ShouldBe(1 + kept + 1);
    }

    [Fact]
    public void AWriteThatFails_LosesItsBatchOnly_AndTheSinkGoesOn()
    {
        var output = new RecordingStream { FailNextWrite = true };
        using (var sink = new BatchedConsoleSink(new MessageTemplateTextFormatter("{Message}{NewLine}"), output, TimeSpan.Zero, BatchedConsoleSink.DefaultBufferLimitBytes))
        {
            sink.Emit(Event("lost"));
            SpinWait.SpinUntil(() => !output.FailNextWrite, TimeSpan.FromSeconds(30)).ShouldBeTrue();
            sink.Emit(Event("kept"));
        }

        output.Text.ShouldBe("kept" + Environment.NewLine);
    }

    [Fact]
    public void EventsAfterDispose_AreIgnored()
    {
        var output = new RecordingStream();
        var sink = new BatchedConsoleSink(new MessageTemplateTextFormatter("{Message}{NewLine}"), output, Long, BatchedConsoleSink.DefaultBufferLimitBytes);
        sink.Emit(Event("before"));
        sink.Dispose();
        sink.Emit(Event("after"));
        sink.Dispose();

        output.Text.ShouldBe("before" + Environment.NewLine);
    }

    private static LogEvent Event(string template, params (string Name, object Value)[] properties) =>
        new(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, Parser.Parse(template),
            properties.Select(p => new LogEventProperty(p.Name, new ScalarValue(p.Value))));

    private sealed class LogsWhenFormatted(Action log)
    {
        public override string ToString()
        {
            log();
            return "a value that logs";
        }
    }

    /// <summary>Records what the sink writes; can hold the writer inside a write, or fail one.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly MemoryStream _bytes = new();
        private int _writes;

        public ManualResetEventSlim? Gate { get; init; }

        public ManualResetEventSlim Entered { get; } = new(false);

        public volatile bool FailNextWrite;

        public int Writes => Volatile.Read(ref _writes);

        public string Text
        {
            get
            {
                lock (_bytes)
                {
                    return Encoding.UTF8.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length);
                }
            }
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Entered.Set();
            Gate?.Wait();
            if (FailNextWrite)
            {
                FailNextWrite = false;
                throw new IOException("the reader went away");
            }

            Interlocked.Increment(ref _writes);
            lock (_bytes)
            {
                _bytes.Write(buffer);
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
