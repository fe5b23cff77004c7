using LlmGateway.Configuration;

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
        AuthorizationHeaderValue = string.IsNullOrEmpty(apiKey) ? null : "Bearer " + apiKey;
    }

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

    /// <summary>The upstream <c>Authorization</c> value. Never logged, traced or returned to a client.</summary>
    internal string? AuthorizationHeaderValue { get; }

    public override string ToString() => $"{Name} ({Type})";
}
