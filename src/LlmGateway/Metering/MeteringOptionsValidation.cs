using System.Globalization;
using LlmGateway.Authentication;
using LlmGateway.Budgets;
using LlmGateway.Configuration;
using LlmGateway.RateLimiting;

namespace LlmGateway.Metering;

/// <summary>The start-up checks of <c>Gateway:Metering</c>, <c>Gateway:Budgets</c>, <c>Gateway:RateLimits</c> and <c>Gateway:Admin</c>.</summary>
internal static class MeteringOptionsValidation
{
    private const string Section = GatewayOptions.SectionName;

    public static void Collect(GatewayOptions options, List<string> errors)
    {
        var metering = options.Metering;
        if (metering.DefaultMaxOutputTokens <= 0)
        {
            errors.Add(Invariant($"{Section}:Metering:DefaultMaxOutputTokens must be a positive number of tokens (got {metering.DefaultMaxOutputTokens})."));
        }

        if (!Enum.IsDefined(metering.RedisFailureMode))
        {
            errors.Add($"{Section}:Metering:RedisFailureMode must be one of {string.Join(", ", Enum.GetNames<StoreFailureMode>())}.");
        }

        foreach (var (model, price) in metering.Prices)
        {
            if (price.Input < 0 || price.Output < 0 || price.CachedInput < 0)
            {
                errors.Add($"{Section}:Metering:Prices:{model}: prices are USD per million tokens and must not be negative.");
            }
        }

        foreach (var (route, overrides) in metering.Routes)
        {
            var key = $"{Section}:Metering:Routes:{route}";
            if (!GatewayOptionsValidator.IsModelOrAlias(options, route))
            {
                errors.Add($"{key}: there is no model or alias '{route}' under {Section}:Models.");
            }

            if (overrides.DefaultMaxOutputTokens is <= 0)
            {
                errors.Add(Invariant($"{key}:DefaultMaxOutputTokens must be a positive number of tokens (got {overrides.DefaultMaxOutputTokens})."));
            }

            if (overrides.RedisFailureMode is { } mode && !Enum.IsDefined(mode))
            {
                errors.Add($"{key}:RedisFailureMode must be one of {string.Join(", ", Enum.GetNames<StoreFailureMode>())}.");
            }
        }

        ValidateBudgets("Keys", options.Budgets.Keys, options, isKey: true, errors);
        ValidateBudgets("Teams", options.Budgets.Teams, options, isKey: false, errors);
        ValidateRateLimits("Keys", options.RateLimits.Keys, options, isKey: true, errors);
        ValidateRateLimits("Teams", options.RateLimits.Teams, options, isKey: false, errors);

        if (options.Admin.KeyHash is { } adminHash && !VirtualKeyHash.TryParse(adminHash, out _))
        {
            errors.Add($"{Section}:Admin:KeyHash must be 'sha256:' followed by 64 hex digits (SHA-256 of the admin key); never put the key itself in configuration.");
        }
    }

    private static void ValidateBudgets(string kind, Dictionary<string, BudgetLimit> budgets, GatewayOptions options, bool isKey, List<string> errors)
    {
        foreach (var (name, budget) in budgets)
        {
            var key = $"{Section}:Budgets:{kind}:{name}";
            if (budget.LimitUsd <= 0)
            {
                errors.Add(Invariant($"{key}:LimitUsd must be a positive amount of USD (got {budget.LimitUsd})."));
            }

            if (!Enum.IsDefined(budget.Period))
            {
                errors.Add($"{key}:Period must be one of {string.Join(", ", Enum.GetNames<BudgetPeriod>())}.");
            }

            CheckOwner(key, name, options, isKey, errors);
        }
    }

    private static void ValidateRateLimits(string kind, Dictionary<string, RateLimit> limits, GatewayOptions options, bool isKey, List<string> errors)
    {
        foreach (var (name, limit) in limits)
        {
            var key = $"{Section}:RateLimits:{kind}:{name}";
            if (limit.RequestsPerMinute is <= 0)
            {
                errors.Add(Invariant($"{key}:RequestsPerMinute must be positive (got {limit.RequestsPerMinute}); leave it out for no limit."));
            }

            if (limit.TokensPerMinute is <= 0)
            {
                errors.Add(Invariant($"{key}:TokensPerMinute must be positive (got {limit.TokensPerMinute}); leave it out for no limit."));
            }

            CheckOwner(key, name, options, isKey, errors);
        }
    }

    /// <summary>A limit for a key or team that does not exist is a typo that would silently leave someone unlimited.</summary>
    private static void CheckOwner(string key, string name, GatewayOptions options, bool isKey, List<string> errors)
    {
        // Without virtual keys, loopback clients are served as the key 'local', which may have limits too.
        var isLocalKey = options.VirtualKeys.Count == 0 && name == ClientIdentityFeature.LocalAnonymous.Id;
        if (isKey && !isLocalKey && !options.VirtualKeys.ContainsKey(name))
        {
            errors.Add($"{key}: there is no virtual key '{name}' under {Section}:VirtualKeys.");
        }
        else if (!isKey && !options.VirtualKeys.Values.Any(virtualKey => string.Equals(virtualKey.Team, name, StringComparison.Ordinal)))
        {
            errors.Add($"{key}: no virtual key under {Section}:VirtualKeys belongs to team '{name}'.");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
