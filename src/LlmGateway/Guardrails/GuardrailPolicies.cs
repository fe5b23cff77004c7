using Microsoft.Extensions.Options;

namespace LlmGateway.Guardrails;

/// <summary>A policy compiled for use: its guards split by stage, in the order they run.</summary>
internal sealed class GuardrailPolicy
{
    public GuardrailPolicy(string name, GuardrailPolicyOptions options)
    {
        Name = name;
        ReversibleMasking = options.ReversibleMasking;
        var input = new List<Guard>();
        var output = new List<Guard>();
        foreach (var (guardName, guardOptions) in options.Guards)
        {
            var guard = Guard.Create(guardName, guardOptions);
            if ((guard.Stage & GuardStage.Input) != 0)
            {
                input.Add(guard);
            }

            if ((guard.Stage & GuardStage.Output) != 0)
            {
                output.Add(guard);
            }
        }

        // Cheap checks first, so that a request blocked by a size limit never pays for scanning or for the watcher.
        input.Sort((a, b) => Cost(a.Type).CompareTo(Cost(b.Type)));
        Input = [.. input];
        Output = [.. output];
    }

    public string Name { get; }

    public bool ReversibleMasking { get; }

    public Guard[] Input { get; }

    public Guard[] Output { get; }

    private static int Cost(GuardType type) => type switch
    {
        GuardType.SizeLimit => 0,
        GuardType.DenyList => 1,
        GuardType.Regex => 2,
        GuardType.PromptInjection => 3,
        GuardType.Pii => 4,
        GuardType.Watcher => 9,
        _ => 5,
    };
}

/// <summary>Finds the policy that guards a model: an exact name first, then the pattern with the longest literal part.</summary>
internal sealed class GuardrailPolicies
{
    private readonly Dictionary<string, GuardrailPolicy> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Pattern, GuardrailPolicy Policy)> _patterns = [];

    public GuardrailPolicies(IOptions<GuardrailsOptions> options)
    {
        foreach (var (name, policyOptions) in options.Value.Policies)
        {
            var policy = new GuardrailPolicy(name, policyOptions);
            foreach (var model in policyOptions.Models)
            {
                if (model.Contains('*', StringComparison.Ordinal))
                {
                    _patterns.Add((model, policy));
                }
                else
                {
                    _exact[model] = policy;
                }
            }
        }

        _patterns.Sort((a, b) => b.Pattern.Length.CompareTo(a.Pattern.Length));
    }

    public bool IsEmpty => _exact.Count == 0 && _patterns.Count == 0;

    public GuardrailPolicy? For(string model)
    {
        if (_exact.TryGetValue(model, out var policy))
        {
            return policy;
        }

        foreach (var (pattern, candidate) in _patterns)
        {
            if (ModelPattern.Matches(pattern, model))
            {
                return candidate;
            }
        }

        return null;
    }
}
