using Serilog;
using Serilog.Configuration;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Json;

namespace LlmGateway.Hosting;

public static class BatchedConsoleSinkExtensions
{
    /// <summary>
    /// Writes log lines to standard output in batches, from a thread of its own (<see cref="BatchedConsoleSink"/>).
    /// In the <c>Serilog</c> section: <c>"Using": [ "LlmGateway" ]</c> and <c>{ "Name": "BatchedConsole" }</c> in
    /// <c>WriteTo</c>, with these arguments under <c>Args</c>.
    /// </summary>
    /// <param name="formatter">The line format; Serilog's <see cref="JsonFormatter"/> when not given.</param>
    /// <param name="flushInterval">How late a line may be written; under load, one write carries this long's lines. 20 ms when not given.</param>
    /// <param name="bufferLimitBytes">The most unwritten bytes held before events are dropped and counted.</param>
    public static LoggerConfiguration BatchedConsole(this LoggerSinkConfiguration sinkConfiguration, ITextFormatter? formatter = null,
        LogEventLevel restrictedToMinimumLevel = LogEventLevel.Verbose, TimeSpan? flushInterval = null,
        int bufferLimitBytes = BatchedConsoleSink.DefaultBufferLimitBytes)
    {
        ArgumentNullException.ThrowIfNull(sinkConfiguration);
        var sink = new BatchedConsoleSink(formatter ?? new JsonFormatter(), Console.OpenStandardOutput(),
            flushInterval ?? BatchedConsoleSink.DefaultFlushInterval, bufferLimitBytes);
        return sinkConfiguration.Sink(sink, restrictedToMinimumLevel);
    }
}
