using System.Diagnostics;
using LlmGateway.Metering;
using Serilog.Events;
using Serilog.Parsing;

namespace LlmGateway.Telemetry;

/// <summary>
/// The request log: one line per request to the LLM API, in category <see cref="Category"/>. Event 800 is a metered
/// request, event 801 one refused before metering recorded it. Each line is a Serilog event built here: its template is
/// parsed once, and each field is a property of its own. The event goes to the Serilog logger the gateway configured,
/// so every sink, level override and enricher of the <c>Serilog</c> section applies to it as to any other event.
/// </summary>
/// <remarks>
/// These two lines do not go through Microsoft.Extensions.Logging. Its bridge to Serilog binds every field through
/// Serilog's value converter and looks the template up by its text, and for the one line that every request writes
/// that cost as much as the rest of the line (docs/benchmarks.md). The fields, the template and the event ids are those
/// a <c>[LoggerMessage]</c> wrote before. Serilog's enrichers still run, so the line keeps <c>TraceId</c> and
/// <c>SpanId</c>, and the request's logging scopes (<c>RequestId</c>, <c>RequestPath</c>, <c>ConnectionId</c>), which
/// Serilog's provider keeps in the log context. A <c>Logging</c> section's filters do not apply to these lines:
/// <c>Serilog:MinimumLevel:Override:LlmGateway.Requests</c> sets their level.
/// </remarks>
public sealed class RequestLog
{
    public const string Category = "LlmGateway.Requests";

    private static readonly MessageTemplate MeteredTemplate = new MessageTemplateParser().Parse(
        "Request {RecordId}: {Operation} {Model} via {Provider}/{Deployment} for key {KeyId} (team {Team}, user {User}): " +
        "{StatusCode} in {LatencyMs:0.0} ms, {PromptTokens}+{CompletionTokens} tokens, {CostUsd} USD, cache {CacheResult}, " +
        "estimated {Estimated}, client disconnected {ClientDisconnected}");

    private static readonly MessageTemplate RefusedTemplate = new MessageTemplateParser().Parse(
        "Request {RecordId} refused: {Operation} {Model} via {Provider}/{Deployment} for key {KeyId} (team {Team}, user {User}): " +
        "{StatusCode} {ErrorCode} in {LatencyMs:0.0} ms, {PromptTokens}+{CompletionTokens} tokens, {CostUsd} USD, cache {CacheResult}, " +
        "estimated {Estimated}, client disconnected {ClientDisconnected}");

    // The fields every line starts with (AddCommon), then each event's own.
    private const int CommonFields = 10;

    // Properties and values are immutable, so the ones that never change are shared by every line.
    private static readonly LogEventProperty MeteredEventId = EventId(800, "LogRequest");
    private static readonly LogEventProperty RefusedEventId = EventId(801, "LogRefusedRequest");
    private static readonly LogEventProperty NoPromptTokens = new("PromptTokens", new ScalarValue(0L));
    private static readonly LogEventProperty NoCompletionTokens = new("CompletionTokens", new ScalarValue(0L));
    private static readonly LogEventProperty NoCost = new("CostUsd", new ScalarValue(0m));
    private static readonly LogEventProperty NoCache = new("CacheResult", new ScalarValue("none"));
    private static readonly LogEventProperty[] Estimated = Flags("Estimated");
    private static readonly LogEventProperty[] ClientDisconnected = Flags("ClientDisconnected");

    private readonly Serilog.ILogger _logger;
    private readonly TimeProvider _time;

    /// <param name="logger">The gateway's Serilog logger (<see cref="Hosting.GatewayLoggingExtensions"/>).</param>
    /// <param name="time">Stamps each line with local time, as Serilog's own events are stamped.</param>
    public RequestLog(Serilog.ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        _logger = logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, Category);
        _time = time;
    }

    /// <summary>Event 800: a metered request.</summary>
    public void Metered(UsageRecord record)
    {
        if (!_logger.IsEnabled(LogEventLevel.Information))
        {
            return;
        }

        var fields = new LogEventProperty[CommonFields + 7];
        AddCommon(fields, record.Id, record.Operation, record.Model, record.Provider, record.Deployment, record.KeyId, record.Team, record.User,
            record.StatusCode, record.Latency.TotalMilliseconds);
        fields[CommonFields] = new("PromptTokens", new ScalarValue(record.Usage.PromptTokens));
        fields[CommonFields + 1] = new("CompletionTokens", new ScalarValue(record.Usage.CompletionTokens));
        fields[CommonFields + 2] = new("CostUsd", new ScalarValue(record.CostUsd));
        fields[CommonFields + 3] = new("CacheResult", Text(record.CacheResult));
        fields[CommonFields + 4] = Estimated[record.Estimated ? 1 : 0];
        fields[CommonFields + 5] = ClientDisconnected[record.ClientDisconnected ? 1 : 0];
        fields[CommonFields + 6] = MeteredEventId;
        Write(MeteredTemplate, fields);
    }

    /// <summary>Event 801: a request refused before metering, with the fields it got as far as, nothing consumed, and the error's code.</summary>
    public void Refused(string? recordId, string? operation, string? model, string? provider, string? deployment, string? keyId, string? team,
        string? user, int statusCode, string? errorCode, double latencyMs, bool clientDisconnected)
    {
        if (!_logger.IsEnabled(LogEventLevel.Information))
        {
            return;
        }

        var fields = new LogEventProperty[CommonFields + 8];
        AddCommon(fields, recordId, operation, model, provider, deployment, keyId, team, user, statusCode, latencyMs);
        fields[CommonFields] = NoPromptTokens;
        fields[CommonFields + 1] = NoCompletionTokens;
        fields[CommonFields + 2] = NoCost;
        fields[CommonFields + 3] = NoCache;
        fields[CommonFields + 4] = Estimated[0];
        fields[CommonFields + 5] = ClientDisconnected[clientDisconnected ? 1 : 0];
        fields[CommonFields + 6] = new("ErrorCode", Text(errorCode));
        fields[CommonFields + 7] = RefusedEventId;
        Write(RefusedTemplate, fields);
    }

    /// <summary>Whether the lines are written at all (the category's level), for callers that would gather fields first.</summary>
    public bool IsEnabled => _logger.IsEnabled(LogEventLevel.Information);

    private void Write(MessageTemplate template, LogEventProperty[] fields)
    {
        var activity = Activity.Current;
        _logger.Write(new LogEvent(_time.GetLocalNow(), LogEventLevel.Information, exception: null, template, fields,
            activity?.TraceId ?? default, activity?.SpanId ?? default));
    }

    private static void AddCommon(LogEventProperty[] fields, string? recordId, string? operation, string? model, string? provider, string? deployment,
        string? keyId, string? team, string? user, int statusCode, double latencyMs)
    {
        fields[0] = new("RecordId", Text(recordId));
        fields[1] = new("Operation", Text(operation));
        fields[2] = new("Model", Text(model));
        fields[3] = new("Provider", Text(provider));
        fields[4] = new("Deployment", Text(deployment));
        fields[5] = new("KeyId", Text(keyId));
        fields[6] = new("Team", Text(team));
        fields[7] = new("User", Text(user));
        fields[8] = new("StatusCode", new ScalarValue(statusCode));
        fields[9] = new("LatencyMs", new ScalarValue(latencyMs));
    }

    private static ScalarValue Text(string? value) => value is null ? ScalarValue.Null : new ScalarValue(value);

    /// <summary>A flag's two properties: false at index 0, true at 1.</summary>
    private static LogEventProperty[] Flags(string name) => [new(name, new ScalarValue(false)), new(name, new ScalarValue(true))];

    private static LogEventProperty EventId(int id, string name) =>
        new("EventId", new StructureValue([new LogEventProperty("Id", new ScalarValue(id)), new LogEventProperty("Name", new ScalarValue(name))]));
}
