using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlmGateway.Telemetry;

namespace LlmGateway.Guardrails;

/// <summary>
/// Counts and traces every guardrail action. Tags carry the guard's name and type, the action and the stage,
/// never what matched.
/// </summary>
internal sealed partial class GuardrailTelemetry
{
    public const string ActionsInstrument = "llmgateway.guardrail.actions";
    public const string ActionEvent = "llm_gateway.guardrail.action";

    private readonly Counter<long> _actions;
    private readonly ILogger<GuardrailTelemetry> _logger;

    public GuardrailTelemetry(GatewayTelemetry telemetry, ILogger<GuardrailTelemetry> logger)
    {
        _actions = telemetry.Meter.CreateCounter<long>(ActionsInstrument, unit: "{action}",
            description: "Guardrail actions taken: a guard blocked, redacted or logged a finding.");
        _logger = logger;
    }

    /// <summary>An action a guard took. <paramref name="action"/> is block, redact, log, fail_open or fail_closed.</summary>
    public void Record(string policy, string guard, GuardType type, string action, string stage, int matches)
    {
        if (_actions.Enabled)
        {
            _actions.Add(1,
                new KeyValuePair<string, object?>("guard", guard),
                new KeyValuePair<string, object?>("guard.type", TypeName(type)),
                new KeyValuePair<string, object?>("action", action),
                new KeyValuePair<string, object?>("stage", stage),
                new KeyValuePair<string, object?>("policy", policy));
        }

        if (Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.AddEvent(new ActivityEvent(ActionEvent, tags: new ActivityTagsCollection
            {
                ["llm_gateway.guardrail.guard"] = guard,
                ["llm_gateway.guardrail.type"] = TypeName(type),
                ["llm_gateway.guardrail.action"] = action,
                ["llm_gateway.guardrail.stage"] = stage,
                ["llm_gateway.guardrail.matches"] = matches,
            }));
            if (action == Actions.Block)
            {
                activity.SetTag("llm_gateway.guardrail.blocked_by", guard);
            }
        }

        LogAction(_logger, guard, TypeName(type), action, stage, matches, policy);
    }

    public void WatcherFailed(string guard, string reason) => LogWatcherFailed(_logger, guard, reason);

    public static string TypeName(GuardType type) => type switch
    {
        GuardType.Pii => "pii",
        GuardType.PromptInjection => "prompt_injection",
        GuardType.DenyList => "deny_list",
        GuardType.Regex => "regex",
        GuardType.SizeLimit => "size_limit",
        GuardType.JsonSchema => "json_schema",
        GuardType.Watcher => "watcher",
        _ => "unknown",
    };

    public static class Actions
    {
        public const string Block = "block";
        public const string Redact = "redact";
        public const string Log = "log";
        public const string Restore = "restore";

        public static string Of(GuardAction action) => action switch
        {
            GuardAction.Block => Block,
            GuardAction.Redact => Redact,
            _ => Log,
        };
    }

    public static class Stages
    {
        public const string Input = "input";
        public const string Output = "output";
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information,
        Message = "Guardrail {Guard} ({GuardType}) took action {Action} on the {Stage} ({Matches} match(es), policy {Policy})")]
    private static partial void LogAction(ILogger logger, string guard, string guardType, string action, string stage, int matches, string policy);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Watcher guard {Guard} could not judge: {Reason}")]
    private static partial void LogWatcherFailed(ILogger logger, string guard, string reason);
}
