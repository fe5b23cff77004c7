using System.Globalization;
using LlmGateway.Authentication;
using LlmGateway.Metering;
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

            if (string.IsNullOrWhiteSpace(model.Provider))
            {
                errors.Add($"{key}:Provider is required.");
            }
            else if (!options.Providers.ContainsKey(model.Provider))
            {
                errors.Add($"{key}:Provider names '{model.Provider}', which is not configured under {Section}:Providers.");
            }

            if (model.UpstreamModel is { } upstream && (upstream.Length == 0 || upstream.Contains('*', StringComparison.Ordinal)))
            {
                errors.Add($"{key}:UpstreamModel must be a plain model name (got '{upstream}').");
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
        return errors;
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
