using System.Globalization;
using LlmGateway.Authentication;
using LlmGateway.Caching;
using LlmGateway.Metering;
using LlmGateway.Storage;
using Microsoft.Extensions.Options;

namespace LlmGateway.Configuration;

/// <summary>
/// Checks the whole <see cref="GatewayOptions"/> at start-up and reports every problem at once, each naming the
/// configuration key to fix, so that an operator fixes a bad deployment in one pass.
/// </summary>
internal sealed class GatewayOptionsValidator(IConfiguration configuration) : IValidateOptions<GatewayOptions>
{
    private const string Section = GatewayOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = Collect(options, configuration);
        if (errors.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var message = string.Create(CultureInfo.InvariantCulture,
            $"The gateway configuration has {errors.Count} error(s):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", errors)}");
        return ValidateOptionsResult.Fail(message);
    }

    internal static List<string> Collect(GatewayOptions options, IConfiguration configuration)
    {
        var errors = new List<string>();

        if (options.MaxRequestBodyBytes <= 0)
        {
            errors.Add($"{Section}:MaxRequestBodyBytes must be a positive number of bytes (got {options.MaxRequestBodyBytes}).");
        }

        if (options.NativeMemoryTrimInterval != TimeSpan.Zero
            && (options.NativeMemoryTrimInterval < TimeSpan.FromSeconds(1) || options.NativeMemoryTrimInterval > TimeSpan.FromDays(1)))
        {
            errors.Add($"{Section}:NativeMemoryTrimInterval must be zero (off) or between 00:00:01 and 1.00:00:00 (got {options.NativeMemoryTrimInterval}).");
        }

        if (options.Providers.Count == 0)
        {
            errors.Add($"{Section}:Providers is empty: configure at least one provider.");
        }

        foreach (var (providerName, provider) in options.Providers)
        {
            ValidateProvider($"{Section}:Providers:{providerName}", provider, configuration, errors);
        }

        if (options.Models.Count == 0)
        {
            errors.Add($"{Section}:Models is empty: configure at least one model.");
        }

        var publicNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (modelName, model) in options.Models)
        {
            var key = $"{Section}:Models:{modelName}";
            ValidateModelName(key, modelName, errors);
            ClaimPublicName(publicNames, modelName, key, errors);
            foreach (var alias in model.Aliases)
            {
                if (string.IsNullOrWhiteSpace(alias) || alias.Contains('*', StringComparison.Ordinal))
                {
                    errors.Add($"{key}:Aliases: '{alias}' is not a valid alias (aliases are plain names, no wildcards).");
                    continue;
                }

                ClaimPublicName(publicNames, alias, $"{key}:Aliases", errors);
            }

            ValidateUpstreamModel($"{key}:UpstreamModel", model.UpstreamModel, errors);
            ValidateDeployments(key, model, options, errors);
            ValidateResilience(key, model, errors);
            ValidateHedgingTargets(key, model, options, errors);
        }

        foreach (var (modelName, model) in options.Models)
        {
            var key = $"{Section}:Models:{modelName}";
            for (var i = 0; i < model.Fallbacks.Count; i++)
            {
                ValidateFallbackTarget($"{key}:Fallbacks:{i}", modelName, model.Fallbacks[i], options, errors);
            }

            if (model.ContextWindowFallback is { } larger)
            {
                ValidateFallbackTarget($"{key}:ContextWindowFallback", modelName, larger, options, errors);
            }
        }

        // The configuration binder drops a model whose settings do not convert (an unknown strategy name) instead of
        // failing, which would silently stop serving it: report such models from the raw configuration.
        foreach (var section in configuration.GetSection($"{Section}:Models").GetChildren())
        {
            if (section["Strategy"] is { } strategy && !Enum.TryParse<RoutingStrategy>(strategy, ignoreCase: true, out _))
            {
                errors.Add($"{section.Path}:Strategy '{strategy}' is not a routing strategy ({string.Join(", ", Enum.GetNames<RoutingStrategy>())}).");
            }
            else if (!options.Models.ContainsKey(section.Key))
            {
                errors.Add($"{section.Path} could not be read: one of its values does not convert to its type (a number, duration, true/false or name).");
            }
        }

        var hashes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (keyId, virtualKey) in options.VirtualKeys)
        {
            var key = $"{Section}:VirtualKeys:{keyId}";
            if (!VirtualKeyHash.TryParse(virtualKey.KeyHash, out _))
            {
                errors.Add($"{key}:KeyHash must be 'sha256:' followed by 64 hex digits (SHA-256 of the key); never put the key itself in configuration.");
            }
            else if (!hashes.TryAdd(virtualKey.KeyHash, keyId))
            {
                errors.Add($"{key}:KeyHash is the same as the hash of virtual key '{hashes[virtualKey.KeyHash]}'.");
            }
        }

        MeteringOptionsValidation.Collect(options, errors);
        CacheOptionsValidation.Collect(options, errors);
        RedisConnection.Validate(configuration.GetConnectionString(RedisConnection.ConnectionStringName), errors);
        return errors;
    }

    /// <summary>Whether <paramref name="route"/> names a model (exact or pattern, as configured) or an alias, for per-route settings.</summary>
    internal static bool IsModelOrAlias(GatewayOptions options, string route)
    {
        if (options.Models.ContainsKey(route))
        {
            return true;
        }

        foreach (var model in options.Models.Values)
        {
            if (model.Aliases.Contains(route))
            {
                return true;
            }
        }

        return false;
    }

    private static void ValidateProvider(string key, ProviderOptions provider, IConfiguration configuration, List<string> errors)
    {
        if (!Enum.IsDefined(provider.Type))
        {
            errors.Add($"{key}:Type '{provider.Type}' is not a provider type ({string.Join(", ", Enum.GetNames<ProviderType>())}).");
        }

        if (provider.Type != ProviderType.Mock)
        {
            var baseUrl = ProviderEndpoint.EffectiveBaseUrl(provider, configuration);
            if (string.IsNullOrWhiteSpace(baseUrl))
            {
                errors.Add($"{key}:BaseUrl is required for a provider of type {provider.Type}.");
            }
            else if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                var source = baseUrl == provider.BaseUrl ? $"{key}:BaseUrl" : $"environment variable {provider.BaseUrlEnvironmentVariable} (from {key}:BaseUrlEnvironmentVariable)";
                errors.Add($"{source} must be an absolute http or https URL (got '{baseUrl}').");
            }
        }

        if (provider.Type == ProviderType.OpenAI && string.IsNullOrWhiteSpace(provider.ApiKeyEnvironmentVariable))
        {
            errors.Add($"{key}:ApiKeyEnvironmentVariable is required for an OpenAI provider: name the environment variable that holds the API key.");
        }

        if (provider.Type is ProviderType.Anthropic or ProviderType.AzureOpenAI && string.IsNullOrWhiteSpace(provider.ApiKeyEnvironmentVariable))
        {
            errors.Add($"{key}:ApiKeyEnvironmentVariable is required for an {provider.Type} provider: name the environment variable that holds the API key.");
        }

        if (provider.ApiVersion is { } apiVersion && (apiVersion.Length == 0 || apiVersion.Any(char.IsWhiteSpace)))
        {
            errors.Add($"{key}:ApiVersion must be a version such as '2024-10-21' (got '{apiVersion}').");
        }

        if (provider.DefaultMaxTokens < 1)
        {
            errors.Add($"{key}:DefaultMaxTokens must be a positive number of tokens (got {provider.DefaultMaxTokens}).");
        }

        if (provider.ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{key}:ConnectTimeout must be positive (got {provider.ConnectTimeout}).");
        }

        if (provider.ResponseTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{key}:ResponseTimeout must be positive (got {provider.ResponseTimeout}).");
        }
    }

    /// <summary>A hedged attempt is forwarded as the client sent it, without provider translation (not built yet).</summary>
    private static void ValidateHedgingTargets(string key, ModelOptions model, GatewayOptions options, List<string> errors)
    {
        if (model.Hedging.Delay is null)
        {
            return;
        }

        IEnumerable<string> providers = model.Deployments.Count == 0 ? [model.Provider] : model.Deployments.Select(d => d.Provider);
        foreach (var provider in providers)
        {
            if (options.Providers.TryGetValue(provider, out var settings) && settings.Type is ProviderType.Anthropic or ProviderType.AzureOpenAI)
            {
                errors.Add($"{key}:Hedging:Delay is set, but provider '{provider}' is of type {settings.Type}: hedged attempts are not translated yet, so hedge only over OpenAI-shaped providers.");
            }
        }
    }

    private static void ValidateDeployments(string key, ModelOptions model, GatewayOptions options, List<string> errors)
    {
        if (model.Deployments.Count == 0)
        {
            ValidateProviderReference($"{key}:Provider", model.Provider, options, errors);
            return;
        }

        if (!string.IsNullOrEmpty(model.Provider))
        {
            errors.Add($"{key}:Provider and {key}:Deployments are both set: configure one deployment through Provider, or several through Deployments.");
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < model.Deployments.Count; i++)
        {
            var deployment = model.Deployments[i];
            var deploymentKey = $"{key}:Deployments:{i}";
            ValidateProviderReference($"{deploymentKey}:Provider", deployment.Provider, options, errors);
            ValidateUpstreamModel($"{deploymentKey}:UpstreamModel", deployment.UpstreamModel, errors);
            if (deployment.Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Any(char.IsControl)))
            {
                errors.Add($"{deploymentKey}:Name must be a non-empty name without control characters.");
            }

            if (deployment.Weight is < 1 or > 1_000_000)
            {
                errors.Add($"{deploymentKey}:Weight must be between 1 and 1000000 (got {deployment.Weight}).");
            }

            if (deployment.Priority < 0)
            {
                errors.Add($"{deploymentKey}:Priority must be 0 or more (got {deployment.Priority}).");
            }

            var effectiveName = DeploymentNaming.NameOf(deployment, model);
            if (!names.TryAdd(effectiveName, i))
            {
                errors.Add($"{deploymentKey}: the deployment name '{effectiveName}' is already used by {key}:Deployments:{names[effectiveName]}; set Name to tell them apart.");
            }
        }
    }

    private static void ValidateResilience(string key, ModelOptions model, List<string> errors)
    {
        if (!Enum.IsDefined(model.Strategy))
        {
            errors.Add($"{key}:Strategy '{model.Strategy}' is not a routing strategy ({string.Join(", ", Enum.GetNames<RoutingStrategy>())}).");
        }

        var timeouts = model.Timeouts;
        RequirePositive($"{key}:Timeouts:Connect", timeouts.Connect, errors);
        RequirePositive($"{key}:Timeouts:Response", timeouts.Response, errors);
        if (timeouts.Total < TimeSpan.FromMilliseconds(10) || timeouts.Total > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:Timeouts:Total must be between 00:00:00.010 and one day (got {timeouts.Total}).");
        }

        if (model.Hedging.Delay is { } hedgingDelay && (hedgingDelay <= TimeSpan.Zero || hedgingDelay > TimeSpan.FromDays(1)))
        {
            errors.Add($"{key}:Hedging:Delay must be positive and at most one day (got {hedgingDelay}).");
        }

        var retry = model.Retry;
        if (retry.MaxAttempts is < 1 or > 10)
        {
            errors.Add($"{key}:Retry:MaxAttempts must be between 1 (no retries) and 10 (got {retry.MaxAttempts}).");
        }

        if (retry.BaseDelay < TimeSpan.Zero || retry.BaseDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:Retry:BaseDelay must be between 0 and one day (got {retry.BaseDelay}).");
        }

        if (retry.MaxDelay < retry.BaseDelay || retry.MaxDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:Retry:MaxDelay must be at least Retry:BaseDelay and at most one day (got {retry.MaxDelay}).");
        }

        if (retry.MaxRetryAfter < TimeSpan.Zero)
        {
            errors.Add($"{key}:Retry:MaxRetryAfter must not be negative (got {retry.MaxRetryAfter}).");
        }

        var breaker = model.CircuitBreaker;
        if (!breaker.Enabled)
        {
            return;
        }

        if (!(breaker.FailureRatio > 0 && breaker.FailureRatio <= 1))
        {
            errors.Add($"{key}:CircuitBreaker:FailureRatio must be greater than 0 and at most 1 (got {breaker.FailureRatio.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (breaker.MinimumThroughput < 2)
        {
            errors.Add($"{key}:CircuitBreaker:MinimumThroughput must be at least 2 (got {breaker.MinimumThroughput}).");
        }

        // Polly's own lower bounds: shorter windows make the breaker flap.
        if (breaker.SamplingDuration < TimeSpan.FromMilliseconds(500) || breaker.SamplingDuration > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:CircuitBreaker:SamplingDuration must be between 00:00:00.5 and one day (got {breaker.SamplingDuration}).");
        }

        if (breaker.BreakDuration < TimeSpan.FromMilliseconds(500) || breaker.BreakDuration > TimeSpan.FromDays(1))
        {
            errors.Add($"{key}:CircuitBreaker:BreakDuration must be between 00:00:00.5 and one day (got {breaker.BreakDuration}).");
        }
    }

    private static void ValidateFallbackTarget(string key, string modelName, string target, GatewayOptions options, List<string> errors)
    {
        if (string.Equals(target, modelName, StringComparison.Ordinal))
        {
            errors.Add($"{key}: a model cannot fall back to itself.");
        }
        else if (!options.Models.ContainsKey(target) || target.Contains('*', StringComparison.Ordinal))
        {
            errors.Add($"{key} names '{target}', which is not a model (exact name, not a pattern or alias) under {Section}:Models.");
        }
    }

    private static void ValidateProviderReference(string key, string provider, GatewayOptions options, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(provider))
        {
            errors.Add($"{key} is required.");
        }
        else if (!options.Providers.ContainsKey(provider))
        {
            errors.Add($"{key} names '{provider}', which is not configured under {Section}:Providers.");
        }
    }

    private static void ValidateUpstreamModel(string key, string? upstream, List<string> errors)
    {
        if (upstream is not null && (upstream.Length == 0 || upstream.Contains('*', StringComparison.Ordinal)))
        {
            errors.Add($"{key} must be a plain model name (got '{upstream}').");
        }
    }

    private static void RequirePositive(string key, TimeSpan? value, List<string> errors)
    {
        if (value is { } timeout && timeout <= TimeSpan.Zero)
        {
            errors.Add($"{key} must be positive (got {timeout}).");
        }
    }

    private static void ValidateModelName(string key, string modelName, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(modelName))
        {
            errors.Add($"{key}: a model name must not be empty.");
        }
        else if (modelName.AsSpan().Count('*') > 1)
        {
            errors.Add($"{key}: a model pattern may contain at most one '*'.");
        }
    }

    private static void ClaimPublicName(Dictionary<string, string> names, string name, string key, List<string> errors)
    {
        if (!names.TryAdd(name, key))
        {
            errors.Add($"{key}: the model name '{name}' is already used by {names[name]}.");
        }
    }
}
