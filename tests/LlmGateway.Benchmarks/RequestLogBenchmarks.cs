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
/// The request log line (event 800) as the gateway writes it: <see cref="RequestTelemetry.Record"/> with no meter
/// listening, through <see cref="RequestLog"/> into a sink. The baseline is the way the line was written until
/// 2026-11-22: a <c>[LoggerMessage]</c> with the same fields through Microsoft.Extensions.Logging and Serilog's bridge.
/// Both run inside two logging scopes like those Kestrel and ASP.NET Core open for every request, whose fields the
/// line carries either way. The sinks write to nothing,
/// so what is measured is the cost on the request's thread: building the event, formatting it and, for Serilog's
/// console sink, its writes. Not measured: the system calls themselves (see profile.sh's writes/request column).
/// </summary>
[MemoryDiagnoser]
public partial class RequestLogBenchmarks
{
    private static readonly UsageRecord Record = UsageRecords.Chat;

    private ServiceProvider? _meters;
    private ILoggerFactory? _loggers;
    private Microsoft.Extensions.Logging.ILogger? _bridged;
    private RequestTelemetry? _telemetry;
    private TextWriter? _console;

    /// <summary>
    /// <c>none</c>: the level filters the line out (the harness's setting before 2026-11-22); <c>event</c>: Serilog
    /// gets the event and no sink takes it; <c>console</c>: Serilog's console sink with <see cref="JsonFormatter"/>,
    /// standard output redirected to nothing; <c>batched</c>: the shipped <see cref="BatchedConsoleSink"/>, writing to
    /// <see cref="Stream.Null"/>.
    /// </summary>
    [Params("none", "event", "console", "batched")]
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

        var logger = configuration.CreateLogger();
        _loggers = LoggerFactory.Create(logging => logging.ClearProviders().AddSerilog(logger, dispose: true));
        _bridged = _loggers.CreateLogger(RequestLog.Category);
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _telemetry = new RequestTelemetry(new GatewayTelemetry(_meters.GetRequiredService<IMeterFactory>()), new RequestLog(logger, TimeProvider.System));
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
    public void RecordRequest()
    {
        using var connection = _bridged!.BeginScope(ConnectionScope);
        using var request = _bridged.BeginScope(RequestScope);
        _telemetry!.Record(Record, serverSpan: null);
    }

    /// <summary>The previous way: the same line as a <c>[LoggerMessage]</c> through the bridge.</summary>
    [Benchmark(Baseline = true)]
    public void ThroughLoggerMessage()
    {
        using var connection = _bridged!.BeginScope(ConnectionScope);
        using var request = _bridged.BeginScope(RequestScope);
        var record = Record;
        LogRequest(_bridged, record.Id, record.Operation, record.Model, record.Provider, record.Deployment, record.KeyId, record.Team, record.User,
            record.StatusCode, record.Latency.TotalMilliseconds, record.Usage.PromptTokens, record.Usage.CompletionTokens,
            record.CostUsd, record.CacheResult, record.Estimated, record.ClientDisconnected);
    }

    private static readonly KeyValuePair<string, object>[] ConnectionScope = [new("ConnectionId", "0HNQ8S57L9RNG")];

    private static readonly KeyValuePair<string, object>[] RequestScope =
        [new("RequestId", "0HNQ8S57L9RNG:00000800"), new("RequestPath", "/v1/chat/completions")];

    [LoggerMessage(EventId = 800, Level = LogLevel.Information,
        Message = "Request {RecordId}: {Operation} {Model} via {Provider}/{Deployment} for key {KeyId} (team {Team}, user {User}): " +
                  "{StatusCode} in {LatencyMs:0.0} ms, {PromptTokens}+{CompletionTokens} tokens, {CostUsd} USD, cache {CacheResult}, " +
                  "estimated {Estimated}, client disconnected {ClientDisconnected}")]
    private static partial void LogRequest(Microsoft.Extensions.Logging.ILogger logger, string recordId, string operation, string model, string provider,
        string? deployment, string keyId, string? team, string? user, int statusCode, double latencyMs, long promptTokens, long completionTokens,
        decimal costUsd, string cacheResult, bool estimated, bool clientDisconnected);
}
