using LlmGateway.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Metering;

/// <summary>The metering policy of a request's route: the global defaults with the route's overrides applied.</summary>
public sealed class MeteringPolicies
{
    private readonly MeteringPolicy _default;
    private readonly Dictionary<string, MeteringPolicy> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Prefix, string Suffix, MeteringPolicy Policy)> _patterns = [];

    public MeteringPolicies(IOptions<GatewayOptions> options)
    {
        var metering = options.Value.Metering;
        _default = new MeteringPolicy(metering.RefuseUnpricedModels, metering.RedisFailureMode, metering.DefaultMaxOutputTokens);
        foreach (var (name, route) in metering.Routes)
        {
            var policy = new MeteringPolicy(
                route.RefuseUnpricedModels ?? _default.RefuseUnpricedModels,
                route.RedisFailureMode ?? _default.RedisFailureMode,
                route.DefaultMaxOutputTokens ?? _default.DefaultMaxOutputTokens);
            var star = name.IndexOf('*', StringComparison.Ordinal);
            if (star < 0)
            {
                _exact[name] = policy;
            }
            else
            {
                _patterns.Add((name[..star], name[(star + 1)..], policy));
            }
        }

        _patterns.Sort((a, b) => (b.Prefix.Length + b.Suffix.Length).CompareTo(a.Prefix.Length + a.Suffix.Length));
    }

    /// <summary>The policy for a request that asked for <paramref name="model"/>.</summary>
    public MeteringPolicy For(string model)
    {
        if (_exact.Count == 0 && _patterns.Count == 0)
        {
            return _default;
        }

        if (_exact.TryGetValue(model, out var policy))
        {
            return policy;
        }

        foreach (var (prefix, suffix, patternPolicy) in _patterns)
        {
            if (model.Length >= prefix.Length + suffix.Length
                && model.StartsWith(prefix, StringComparison.Ordinal)
                && model.EndsWith(suffix, StringComparison.Ordinal))
            {
                return patternPolicy;
            }
        }

        return _default;
    }
}

public sealed record MeteringPolicy(bool RefuseUnpricedModels, StoreFailureMode RedisFailureMode, int DefaultMaxOutputTokens);
