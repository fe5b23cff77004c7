using System.Diagnostics;
using LlmGateway.Metering;
using LlmGateway.Telemetry;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace LlmGateway.Tests.Unit;

/// <summary>
/// The request log's events as Serilog receives them: message, fields, event id, category, trace ids and time. The
/// functional tests read the same lines from a running gateway's output (<c>ObservabilityTests</c>).
/// </summary>
public sealed class RequestLogTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 30, 0, TimeSpan.Zero);

    [Fact]
    public void AMeteredRequest_IsOneEvent800_WithEveryFieldOfItsMessage()
    {
        var events = new Events();
        using var logger = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(events).CreateLogger();
        using var source = new ActivitySource("request-log-tests");
        using var listener = ListenTo(source);
        using var span = source.StartActivity("request");

        new RequestLog(logger, new FixedTime()).Metered(new UsageRecord
        {
            Id = "rec-1",
            Timestamp = Now,
            KeyId = "alice",
            Team = "team-a",
            Model = "fast",
            UpstreamModel = "gpt-4o-mini",
            Provider = "openai",
            Deployment = "openai-eu",
            CacheResult = "miss",
            Operation = "chat.completions",
            StatusCode = 200,
            Latency = TimeSpan.FromMilliseconds(12.34),
            Usage = new TokenUsage(31, 29, 0, 0),
            CostUsd = 0.00002205m,
            Estimated = true,
        });

        var line = events.Received.ShouldHaveSingleItem();
        line.Level.ShouldBe(LogEventLevel.Information);
        line.Timestamp.ShouldBe(Now);
        line.TraceId.ShouldBe(span!.TraceId);
        line.SpanId.ShouldBe(span.SpanId);
        line.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).ShouldBe(
            "Request \"rec-1\": \"chat.completions\" \"fast\" via \"openai\"/\"openai-eu\" for key \"alice\" (team \"team-a\", user null): " +
            "200 in 12.3 ms, 31+29 tokens, 0.00002205 USD, cache \"miss\", estimated True, client disconnected False");
        Scalar(line, "SourceContext").ShouldBe(RequestLog.Category);
        EventId(line).ShouldBe((800, "LogRequest"));
        line.Properties.Keys.ShouldBe(
            ["RecordId", "Operation", "Model", "Provider", "Deployment", "KeyId", "Team", "User", "StatusCode", "LatencyMs", "PromptTokens",
             "CompletionTokens", "CostUsd", "CacheResult", "Estimated", "ClientDisconnected", "EventId", "SourceContext"], ignoreOrder: true);
        Scalar(line, "LatencyMs").ShouldBe(12.34);
        Scalar(line, "PromptTokens").ShouldBe(31L);
        Scalar(line, "CostUsd").ShouldBe(0.00002205m);
    }

    [Fact]
    public void ARefusedRequest_IsOneEvent801_WithItsErrorCode_AndNothingConsumed()
    {
        var events = new Events();
        using var logger = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(events).CreateLogger();

        new RequestLog(logger, new FixedTime()).Refused(recordId: null, "chat.completions", "fast", provider: null, deployment: null, "alice",
            "team-a", "u-7", 429, "budget_exceeded", 0.5, clientDisconnected: true);

        var line = events.Received.ShouldHaveSingleItem();
        EventId(line).ShouldBe((801, "LogRefusedRequest"));
        Scalar(line, "ErrorCode").ShouldBe("budget_exceeded");
        Scalar(line, "StatusCode").ShouldBe(429);
        Scalar(line, "RecordId").ShouldBeNull();
        Scalar(line, "User").ShouldBe("u-7");
        Scalar(line, "PromptTokens").ShouldBe(0L);
        Scalar(line, "CompletionTokens").ShouldBe(0L);
        Scalar(line, "CostUsd").ShouldBe(0m);
        Scalar(line, "CacheResult").ShouldBe("none");
        Scalar(line, "Estimated").ShouldBe(false);
        Scalar(line, "ClientDisconnected").ShouldBe(true);
        line.TraceId.ShouldBeNull();
    }

    [Fact]
    public void TheCategorysLevelOverride_TurnsTheLinesOff_AndLeavesOthersAlone()
    {
        var events = new Events();
        using var logger = new LoggerConfiguration().MinimumLevel.Information()
            .MinimumLevel.Override(RequestLog.Category, LogEventLevel.Warning)
            .WriteTo.Sink(events).CreateLogger();
        var log = new RequestLog(logger, new FixedTime());

        log.IsEnabled.ShouldBeFalse();
        log.Refused(null, null, null, null, null, null, null, null, 401, "invalid_api_key", 0.1, clientDisconnected: false);
        logger.ForContext(Constants.SourceContextPropertyName, "LlmGateway.Other").Information("still written");

        events.Received.ShouldHaveSingleItem().MessageTemplate.Text.ShouldBe("still written");
    }

    private static object? Scalar(LogEvent line, string name) => ((ScalarValue)line.Properties[name]).Value;

    private static (object? Id, object? Name) EventId(LogEvent line)
    {
        var fields = ((StructureValue)line.Properties["EventId"]).Properties;
        return (((ScalarValue)fields.Single(p => p.Name == "Id").Value).Value, ((ScalarValue)fields.Single(p => p.Name == "Name").Value).Value);
    }

    private static ActivityListener ListenTo(ActivitySource source)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private sealed class Events : ILogEventSink
    {
        public List<LogEvent> Received { get; } = [];

        public void Emit(LogEvent logEvent) => Received.Add(logEvent);
    }

    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
