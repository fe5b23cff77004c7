using System.Globalization;
using System.Text.RegularExpressions;
using LlmGateway.Configuration;
using LlmGateway.Guardrails.Detection;
using Microsoft.Extensions.Options;

namespace LlmGateway.Guardrails;

/// <summary>Checks every guardrail policy at start-up and lists every problem at once, each naming its key.</summary>
internal sealed class GuardrailsOptionsValidator(IOptions<GatewayOptions> gateway) : IValidateOptions<GuardrailsOptions>
{
    private const string Section = GuardrailsOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, GuardrailsOptions options)
    {
        var errors = Collect(options, gateway.Value);
        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(string.Create(CultureInfo.InvariantCulture,
                $"The guardrail configuration has {errors.Count} error(s):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", errors)}"));
    }

    internal static List<string> Collect(GuardrailsOptions options, GatewayOptions gateway)
    {
        var errors = new List<string>();
        var claimed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (policyName, policy) in options.Policies)
        {
            var key = $"{Section}:Policies:{policyName}";
            if (policy.Models.Count == 0)
            {
                errors.Add($"{key}:Models is empty: name the models (or '*') the policy guards.");
            }

            foreach (var model in policy.Models)
            {
                if (string.IsNullOrWhiteSpace(model) || model.AsSpan().Count('*') > 1)
                {
                    errors.Add($"{key}:Models: '{model}' must be a model name or a pattern with at most one '*'.");
                }
                else if (!claimed.TryAdd(model, policyName))
                {
                    errors.Add($"{key}:Models: '{model}' is already guarded by policy '{claimed[model]}'.");
                }
            }

            if (policy.Guards.Count == 0)
            {
                errors.Add($"{key}:Guards is empty: configure at least one guard.");
            }

            foreach (var (guardName, guard) in policy.Guards)
            {
                ValidateGuard($"{key}:Guards:{guardName}", guard, gateway, errors);
            }
        }

        return errors;
    }

    private static void ValidateGuard(string key, GuardOptions guard, GatewayOptions gateway, List<string> errors)
    {
        if (!Enum.IsDefined(guard.Type))
        {
            errors.Add($"{key}:Type '{guard.Type}' is not a guard type ({string.Join(", ", Enum.GetNames<GuardType>())}).");
            return;
        }

        if (!Enum.IsDefined(guard.Action))
        {
            errors.Add($"{key}:Action '{guard.Action}' is not an action (Block, Redact, Log).");
        }

        var redactable = guard.Type is GuardType.Pii or GuardType.DenyList or GuardType.Regex;
        if (guard.Action == GuardAction.Redact && !redactable)
        {
            errors.Add($"{key}:Action: a {guard.Type} guard can Block or Log; only Pii, DenyList and Regex guards can Redact.");
        }

        if (guard.Stage is { } stage)
        {
            if (stage is not (GuardStage.Input or GuardStage.Output or GuardStage.Both))
            {
                errors.Add($"{key}:Stage '{stage}' is not a stage (Input, Output, Both).");
            }
            else if (!redactable && stage != guard.EffectiveStageForType())
            {
                errors.Add($"{key}:Stage: a {guard.Type} guard always runs on {guard.EffectiveStageForType()}; remove the key.");
            }
        }

        foreach (var entity in guard.Entities)
        {
            if (entity == PiiEntities.None || (entity & ~PiiEntities.All) != 0)
            {
                errors.Add($"{key}:Entities: '{entity}' is not a PII kind (Email, Phone, Card, Iban, Ssn, Ip, Secret).");
            }
        }

        if (guard.Entities.Count > 0 && guard.Type != GuardType.Pii)
        {
            errors.Add($"{key}:Entities applies to Pii guards only.");
        }

        switch (guard.Type)
        {
            case GuardType.PromptInjection when guard.Threshold is <= 0 or > 1 || double.IsNaN(guard.Threshold):
                errors.Add($"{key}:Threshold must be in (0, 1] (got {guard.Threshold.ToString(CultureInfo.InvariantCulture)}).");
                break;
            case GuardType.DenyList when guard.Terms.Count == 0 || guard.Terms.Exists(string.IsNullOrWhiteSpace):
                errors.Add($"{key}:Terms must list at least one word or phrase, none of them empty.");
                break;
            case GuardType.Regex:
                ValidatePattern(key, guard.Pattern, errors);
                break;
            case GuardType.SizeLimit when guard.MaxPromptTokens is null && guard.MaxMessages is null:
                errors.Add($"{key}: a SizeLimit guard needs MaxPromptTokens, MaxMessages or both.");
                break;
            case GuardType.Watcher:
                ValidateWatcher(key, guard, gateway, errors);
                break;
        }

        if (guard.MaxPromptTokens is <= 0 || guard.MaxMessages is <= 0)
        {
            errors.Add($"{key}: MaxPromptTokens and MaxMessages must be positive.");
        }

        if (redactable && guard.Type != GuardType.Pii && !IsPlaceholderLabel(guard.Placeholder))
        {
            errors.Add($"{key}:Placeholder must be letters, digits or '_' (got '{guard.Placeholder}'); it becomes [{guard.Placeholder}].");
        }
    }

    private static void ValidatePattern(string key, string? pattern, List<string> errors)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            errors.Add($"{key}:Pattern is required for a Regex guard.");
            return;
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException exception)
        {
            errors.Add($"{key}:Pattern is not a valid regular expression: {exception.Message}");
        }
    }

    private static void ValidateWatcher(string key, GuardOptions guard, GatewayOptions gateway, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(guard.Model))
        {
            errors.Add($"{key}:Model is required for a Watcher guard: name a chat model configured under Gateway:Models.");
        }
        else if (!IsConfiguredModel(guard.Model, gateway))
        {
            errors.Add($"{key}:Model '{guard.Model}' is not configured under Gateway:Models.");
        }

        if (guard.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"{key}:Timeout must be positive (got {guard.Timeout}).");
        }
    }

    private static bool IsConfiguredModel(string model, GatewayOptions gateway)
    {
        foreach (var (name, options) in gateway.Models)
        {
            if (string.Equals(name, model, StringComparison.Ordinal) || options.Aliases.Contains(model) || ModelPattern.Matches(name, model))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsPlaceholderLabel(string label) =>
        label.Length is > 0 and <= 32 && !label.AsSpan().ContainsAnyExcept(PlaceholderCharacters);

    private static readonly System.Buffers.SearchValues<char> PlaceholderCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
}

internal static class GuardOptionsExtensions
{
    /// <summary>The one stage of guards that cannot choose theirs.</summary>
    public static GuardStage EffectiveStageForType(this GuardOptions guard) =>
        guard.Type == GuardType.JsonSchema ? GuardStage.Output : GuardStage.Input;
}

/// <summary>Matching of a model name against a pattern with at most one <c>*</c>, as the model catalog and policies use it.</summary>
internal static class ModelPattern
{
    public static bool Matches(string pattern, string model)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
        {
            return string.Equals(pattern, model, StringComparison.Ordinal);
        }

        return model.Length >= pattern.Length - 1
            && model.AsSpan().StartsWith(pattern.AsSpan(0, star), StringComparison.Ordinal)
            && model.AsSpan().EndsWith(pattern.AsSpan(star + 1), StringComparison.Ordinal);
    }
}
