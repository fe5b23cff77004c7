using LlmGateway.Configuration;
using LlmGateway.Providers.Azure;

namespace LlmGateway.Providers;

/// <summary>A configured provider with its settings resolved: base address and credentials.</summary>
public sealed class UpstreamProvider
{
    private volatile Uri? _baseAddress;

    internal UpstreamProvider(string name, ProviderOptions options, Uri? baseAddress, string? apiKey)
    {
        Name = name;
        Type = options.Type;
        ConnectTimeout = options.ConnectTimeout;
        ResponseTimeout = options.ResponseTimeout;
        ApiKeyEnvironmentVariable = options.ApiKeyEnvironmentVariable;
        _baseAddress = baseAddress;
        DefaultMaxTokens = options.DefaultMaxTokens;
        ApiVersion = options.ApiVersion ?? options.Type switch
        {
            ProviderType.AzureOpenAI => AzureOpenAiAddress.DefaultApiVersion,
            ProviderType.Anthropic => DefaultAnthropicVersion,
            _ => null,
        };
        CredentialHeaderName = options.Type switch
        {
            ProviderType.Anthropic => "x-api-key",
            ProviderType.AzureOpenAI => AzureOpenAiAddress.ApiKeyHeader,
            _ => "Authorization",
        };
        CredentialHeaderValue = string.IsNullOrEmpty(apiKey) ? null
            : CredentialHeaderName == "Authorization" ? "Bearer " + apiKey
            : apiKey;
    }

    /// <summary>The <c>anthropic-version</c> sent when a provider names none: the Messages API's stable version.</summary>
    public const string DefaultAnthropicVersion = "2023-06-01";

    public string Name { get; }

    public ProviderType Type { get; }

    public TimeSpan ConnectTimeout { get; }

    public TimeSpan ResponseTimeout { get; }

    internal string? ApiKeyEnvironmentVariable { get; }

    /// <summary>The API base URL, e.g. <c>https://api.openai.com/v1</c>; null until an embedded provider has started.</summary>
    public Uri? BaseAddress
    {
        get => _baseAddress;
        internal set => _baseAddress = value;
    }

    /// <summary>Azure's <c>api-version</c> or Anthropic's <c>anthropic-version</c>; null for other types.</summary>
    public string? ApiVersion { get; }

    /// <summary>Anthropic's required <c>max_tokens</c> when a translated request names no cap.</summary>
    public int DefaultMaxTokens { get; }

    /// <summary>Whether requests and responses are in OpenAI's shape (everything but Anthropic).</summary>
    public bool SpeaksOpenAi => Type != ProviderType.Anthropic;

    /// <summary>The header that carries the credential: <c>Authorization</c>, <c>x-api-key</c> or <c>api-key</c>.</summary>
    internal string CredentialHeaderName { get; }

    /// <summary>The credential header's value. Never logged, traced or returned to a client.</summary>
    internal string? CredentialHeaderValue { get; }

    public override string ToString() => $"{Name} ({Type})";
}
