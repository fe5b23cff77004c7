using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using LlmGateway.Hosting;
using LlmGateway.Metering;
using LlmGateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Formatting.Json;

namespace LlmGateway.Benchmarks;

/// <summary>
/// The request log line (event 800) as the gateway writes it: <see cref="RequestTelemetry.Record"/> through
/// Microsoft.Extensions.Logging and Serilog's bridge into a sink, with no meter listening. The sinks write to nothing,
/// so what is measured is the cost on the request's thread: the bridge, the formatting and, for Serilog's console
/// sink, its writes. Not measured: the system calls themselves (see profile.sh's writes/request column).
/// </summary>
[MemoryDiagnoser]
public class RequestLogBenchmarks
{
    private static readonly UsageRecord Record = UsageRecords.Chat;

    private ServiceProvider? _meters;
    private ILoggerFactory? _loggers;
    private RequestTelemetry? _telemetry;
    private TextWriter? _console;

    /// <summary>
    /// <c>none</c>: the level filters the line out (the harness's setting before 2026-11-22); <c>bridge</c>: Serilog
    /// builds the event and no sink takes it; <c>console</c>: Serilog's console sink with <see cref="JsonFormatter"/>,
    /// standard output redirected to nothing; <c>batched</c>: the shipped <see cref="BatchedConsoleSink"/>, writing to
    /// <see cref="Stream.Null"/>.
    /// </summary>
    [Params("none", "bridge", "console", "batched")]
    public string Sink { get; set; } = "batched";

    [GlobalSetup]
    public void Setup()
    {
        var configuration = new LoggerConfiguration().Enrich.FromLogContext().MinimumLevel.Information();
        switch (Sink)
        {
            case "none":
                configuration.MinimumLevel.Warning();
                break;
            case "console":
                _console = Console.Out;
                Console.SetOut(TextWriter.Null);
                configuration.WriteTo.Console(new JsonFormatter());
                break;
            case "batched":
                configuration.WriteTo.Sink(new BatchedConsoleSink(new JsonFormatter(), Stream.Null, BatchedConsoleSink.DefaultFlushInterval,
                    BatchedConsoleSink.DefaultBufferLimitBytes));
                break;
        }

        _loggers = LoggerFactory.Create(logging => logging.ClearProviders().AddSerilog(configuration.CreateLogger(), dispose: true));
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _telemetry = new RequestTelemetry(new GatewayTelemetry(_meters.GetRequiredService<IMeterFactory>()), _loggers);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loggers?.Dispose();
        _meters?.Dispose();
        if (_console is not null)
        {
            Console.SetOut(_console);
        }
    }

    [Benchmark]
    public void RecordRequest() => _telemetry!.Record(Record, serverSpan: null);
}
