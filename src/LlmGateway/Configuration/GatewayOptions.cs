using LlmGateway.Admin;
using LlmGateway.Budgets;
using LlmGateway.Metering;
using LlmGateway.RateLimiting;

namespace LlmGateway.Configuration;

/// <summary>The gateway's configuration, bound from the <c>Gateway</c> section of appsettings.</summary>
public sealed record GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Largest request body the gateway reads, in bytes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Upstream LLM providers by name.</summary>
    public Dictionary<string, ProviderOptions> Providers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Public model names (or wildcard patterns such as <c>gpt-*</c>) and where they are served.</summary>
    public Dictionary<string, ModelOptions> Models { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Virtual keys by key id. Only hashes are stored.</summary>
    public Dictionary<string, VirtualKeyOptions> VirtualKeys { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Token and cost metering: prices, unpriced models, shared-store failures.</summary>
    public MeteringOptions Metering { get; init; } = new();

    /// <summary>Spend limits in USD per virtual key and per team.</summary>
    public BudgetOptions Budgets { get; init; } = new();

    /// <summary>Requests and tokens per minute per virtual key and per team.</summary>
    public RateLimitOptions RateLimits { get; init; } = new();

    /// <summary>The admin API (spend queries).</summary>
    public AdminOptions Admin { get; init; } = new();
}

public enum ProviderType
{
    /// <summary>The OpenAI API: bearer-token authentication, OpenAI request and response shapes.</summary>
    OpenAI,

    /// <summary>Any server speaking the OpenAI API (vLLM, Ollama, LM Studio, TGI); the API key is optional.</summary>
    OpenAICompatible,

    /// <summary>The mock provider, started inside the gateway process on a loopback port (the demo model).</summary>
    Mock,

    /// <summary>
    /// Anthropic's Messages API: <c>x-api-key</c> and <c>anthropic-version</c> headers; OpenAI chat requests and
    /// responses are translated (docs/providers.md), <c>/v1/messages</c> passes through.
    /// </summary>
    Anthropic,

    /// <summary>
    /// Azure OpenAI: the model name is the deployment, addressed as
    /// <c>{BaseUrl}/openai/deployments/{deployment}/...?api-version=</c>, with an <c>api-key</c> header.
    /// </summary>
    AzureOpenAI,
}

public sealed record ProviderOptions
{
    public ProviderType Type { get; init; } = ProviderType.OpenAI;

    /// <summary>The provider's API base URL, including the version segment, e.g. <c>https://api.openai.com/v1</c>.</summary>
    public string? BaseUrl { get; init; }

    /// <summary>When this environment variable is set, its value replaces <see cref="BaseUrl"/>.</summary>
    public string? BaseUrlEnvironmentVariable { get; init; }

    /// <summary>The environment variable holding the provider's API key. Keys never live in appsettings.</summary>
    public string? ApiKeyEnvironmentVariable { get; init; }

    /// <summary>
    /// The API version the provider is called with: Azure OpenAI's <c>api-version</c> query parameter (default
    /// <c>2024-10-21</c>) or Anthropic's <c>anthropic-version</c> header (default <c>2023-06-01</c>). Other types ignore it.
    /// </summary>
    public string? ApiVersion { get; init; }

    /// <summary>
    /// Anthropic only: the <c>max_tokens</c> sent when an OpenAI-shaped request names no output cap (Anthropic requires
    /// one, OpenAI does not).
    /// </summary>
    public int DefaultMaxTokens { get; init; } = 4096;

    /// <summary>How long to wait for a TCP/TLS connection to the provider.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the upstream may stay silent: before the first byte and between streamed chunks.
    /// Long by default because reasoning models think for minutes before answering.
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromMinutes(10);
}

public sealed record ModelOptions
{
    /// <summary>The name of the provider that serves this model.</summary>
    public string Provider { get; init; } = "";

    /// <summary>The model name sent upstream; defaults to the requested name (pass-through).</summary>
    public string? UpstreamModel { get; init; }

    /// <summary>Other public names for the same model.</summary>
    public List<string> Aliases { get; init; } = [];
}

public sealed record VirtualKeyOptions
{
    /// <summary>The key's hash, <c>sha256:</c> followed by 64 hex digits of SHA-256 over the key's UTF-8 bytes.</summary>
    public string KeyHash { get; init; } = "";

    public string? Team { get; init; }

    public string? User { get; init; }

    public string? Project { get; init; }
}
