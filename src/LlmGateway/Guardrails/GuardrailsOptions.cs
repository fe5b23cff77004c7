using LlmGateway.Guardrails.Detection;

namespace LlmGateway.Guardrails;

/// <summary>Guardrail policies, bound from <c>Gateway:Guardrails</c>. Without a policy for its model a request is not guarded.</summary>
public sealed record GuardrailsOptions
{
    public const string SectionName = "Gateway:Guardrails";

    /// <summary>Policies by name. Each names the models it guards and its guards.</summary>
    public Dictionary<string, GuardrailPolicyOptions> Policies { get; init; } = new(StringComparer.Ordinal);
}

public sealed record GuardrailPolicyOptions
{
    /// <summary>
    /// The public model names the policy guards, as clients ask for them: exact names, aliases, or patterns with one
    /// <c>*</c> (<c>*</c> alone guards every model). An exact name beats a pattern; the longer pattern beats the shorter.
    /// </summary>
    public List<string> Models { get; init; } = [];

    /// <summary>
    /// Redacted PII gets numbered placeholders (<c>[EMAIL_1]</c>) and the original values are put back into the
    /// model's non-streamed answer, so that users see their own data while the provider never does.
    /// </summary>
    public bool ReversibleMasking { get; init; }

    /// <summary>The guards by name; the name is what a blocked client and the metrics see.</summary>
    public Dictionary<string, GuardOptions> Guards { get; init; } = new(StringComparer.Ordinal);
}

public enum GuardType
{
    /// <summary>E-mail, phone, payment card, IBAN, US SSN, IP addresses and secrets.</summary>
    Pii,

    /// <summary>Instruction-override, prompt-leak, role-play-escape and encoded-payload heuristics, scored.</summary>
    PromptInjection,

    /// <summary>Words or phrases that must not appear (case-insensitive, whole words).</summary>
    DenyList,

    /// <summary>A regular expression of the operator's.</summary>
    Regex,

    /// <summary>Caps on the estimated prompt tokens and the number of messages.</summary>
    SizeLimit,

    /// <summary>The answer must be valid JSON matching the request's <c>response_format</c> json_schema.</summary>
    JsonSchema,

    /// <summary>A chat model asked whether the input is safe (a Llama-Guard-style classifier).</summary>
    Watcher,
}

public enum GuardAction
{
    /// <summary>Input: reject with 400 <c>content_policy_violation</c>. Output: end the answer with finish reason <c>content_filter</c>.</summary>
    Block,

    /// <summary>Replace what matched by a typed placeholder and let the request through.</summary>
    Redact,

    /// <summary>Count and trace the finding, change nothing.</summary>
    Log,
}

[Flags]
public enum GuardStage
{
    Input = 1,
    Output = 2,
    Both = Input | Output,
}

/// <summary>One guard. Which properties apply depends on <see cref="Type"/>; the validator rejects the others.</summary>
public sealed record GuardOptions
{
    public GuardType Type { get; init; }

    public GuardAction Action { get; init; } = GuardAction.Block;

    /// <summary>Where the guard looks. Pii, DenyList and Regex may look at input, output or both; the rest have one stage.</summary>
    public GuardStage? Stage { get; init; }

    /// <summary>Pii: the kinds to find; all when empty.</summary>
    public List<PiiEntities> Entities { get; init; } = [];

    /// <summary>PromptInjection: the score in (0, 1] at which the guard acts.</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>DenyList: the words and phrases.</summary>
    public List<string> Terms { get; init; } = [];

    /// <summary>Regex: the pattern (.NET syntax), matched with a 100 ms timeout.</summary>
    public string? Pattern { get; init; }

    /// <summary>DenyList and Regex: the placeholder label for redaction, <c>REDACTED</c> → <c>[REDACTED]</c>.</summary>
    public string Placeholder { get; init; } = "REDACTED";

    /// <summary>SizeLimit: the most prompt tokens, estimated as one per four characters plus three per message.</summary>
    public int? MaxPromptTokens { get; init; }

    /// <summary>SizeLimit: the most messages (chat) or input items (Responses).</summary>
    public int? MaxMessages { get; init; }

    /// <summary>Watcher: the model (any configured chat model) that judges. It answers <c>safe</c> or <c>unsafe</c> first.</summary>
    public string? Model { get; init; }

    /// <summary>Watcher: how long to wait for the verdict.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Watcher: when the judge fails, times out or answers neither word, block (true) or let through (false).</summary>
    public bool FailClosed { get; init; }

    /// <summary>Watcher: the system prompt; the default asks for Llama Guard's one-word verdict.</summary>
    public string? Prompt { get; init; }

    internal GuardStage EffectiveStage => Stage ?? this.EffectiveStageForType();
}
