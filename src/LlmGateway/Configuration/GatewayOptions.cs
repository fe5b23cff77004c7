using LlmGateway.Admin;
using LlmGateway.Budgets;
using LlmGateway.Caching;
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

    /// <summary>The exact and semantic response cache.</summary>
    public CacheOptions Cache { get; init; } = new();

    /// <summary>
    /// How often the C heap's free pages are given back to the operating system (glibc's <c>malloc_trim</c>), so the
    /// resident set stays flat after warm-up; zero turns it off. Only where the C library is glibc.
    /// </summary>
    public TimeSpan NativeMemoryTrimInterval { get; init; } = TimeSpan.FromSeconds(30);
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
    /// <summary>
    /// The name of the provider that serves this model, for a model with one deployment. Use
    /// <see cref="Deployments"/> instead to spread the model over several providers, keys or regions.
    /// </summary>
    public string Provider { get; init; } = "";

    /// <summary>The model name sent upstream; defaults to the requested name (pass-through).</summary>
    public string? UpstreamModel { get; init; }

    /// <summary>Other public names for the same model.</summary>
    public List<string> Aliases { get; init; } = [];

    /// <summary>Where the model is served when it has more than one place; replaces <see cref="Provider"/>.</summary>
    public List<DeploymentOptions> Deployments { get; init; } = [];

    /// <summary>How an attempt picks one of the deployments of the best priority that are in rotation.</summary>
    public RoutingStrategy Strategy { get; init; } = RoutingStrategy.WeightedRandom;

    /// <summary>How long an attempt, and the whole request, may take.</summary>
    public ModelTimeoutOptions Timeouts { get; init; } = new();

    /// <summary>How often and how soon a failed attempt is tried again.</summary>
    public RetryOptions Retry { get; init; } = new();

    /// <summary>When a failing deployment is taken out of rotation, per deployment.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; init; } = new();

    /// <summary>Other models (exact names) tried, in order, once this model's deployments have failed.</summary>
    public List<string> Fallbacks { get; init; } = [];

    /// <summary>A model (exact name) with a larger context window, used when an upstream answers <c>context_length_exceeded</c>.</summary>
    public string? ContextWindowFallback { get; init; }

    /// <summary>A second, parallel attempt when the first is slow to answer, for latency-sensitive models.</summary>
    public HedgingOptions Hedging { get; init; } = new();
}

public sealed record HedgingOptions
{
    /// <summary>
    /// When set, a non-streaming request whose first attempt has no answer after this long gets a second attempt on
    /// another deployment (the same one when it is the only one); the first complete answer wins and the other
    /// attempt is cancelled. Unset (the default) turns hedging off.
    /// </summary>
    public TimeSpan? Delay { get; init; }
}

/// <summary>One place a model is served: a provider, the model's name there, and its share of traffic.</summary>
public sealed record DeploymentOptions
{
    /// <summary>The deployment's name in <c>x-gateway-deployment</c>, logs and traces; defaults to <c>provider/upstream-model</c>.</summary>
    public string? Name { get; init; }

    /// <summary>The name of the provider (under <c>Gateway:Providers</c>) that serves this deployment.</summary>
    public string Provider { get; init; } = "";

    /// <summary>The model name sent upstream; defaults to the model's <see cref="ModelOptions.UpstreamModel"/>, then the requested name.</summary>
    public string? UpstreamModel { get; init; }

    /// <summary>The deployment's share of traffic among deployments of the same priority (weighted random).</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Lower is preferred: a deployment is used only while every deployment with a lower priority is out of rotation or has failed this request.</summary>
    public int Priority { get; init; }
}

public enum RoutingStrategy
{
    /// <summary>Random, in proportion to <see cref="DeploymentOptions.Weight"/>.</summary>
    WeightedRandom,

    /// <summary>The deployment with the lowest moving average (EWMA) of time to response headers; untried deployments first.</summary>
    LowestLatency,

    /// <summary>The deployment with the fewest requests in flight from this replica.</summary>
    LeastInFlight,

    /// <summary>Always the first deployment in configuration order; the others only when it is out of rotation or failed.</summary>
    OrderedFallback,
}

public sealed record ModelTimeoutOptions
{
    /// <summary>How long to wait for a TCP/TLS connection; defaults to the longest <c>ConnectTimeout</c> of the model's providers.</summary>
    public TimeSpan? Connect { get; init; }

    /// <summary>
    /// How long the upstream may stay silent: until the response headers (time to first byte) and between streamed
    /// chunks. Defaults to the longest <c>ResponseTimeout</c> of the model's providers (10 minutes: reasoning models think).
    /// </summary>
    public TimeSpan? Response { get; init; }

    /// <summary>The most a request may take, every attempt and wait included, streaming included.</summary>
    public TimeSpan Total { get; init; } = TimeSpan.FromMinutes(30);
}

public sealed record RetryOptions
{
    /// <summary>Attempts per request, the first included, across deployments and fallback models; 1 turns retries off.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The first backoff before trying the same deployment again; it doubles per attempt, with jitter.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest backoff between two attempts.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest <c>Retry-After</c> the gateway waits out; an upstream that asks for longer has its answer passed
    /// to the client (unless another deployment can take the request at once).
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record CircuitBreakerOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>The share of failed attempts (429, 5xx, connection failures, timeouts) within <see cref="SamplingDuration"/> that opens the breaker.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>Attempts within <see cref="SamplingDuration"/> before the ratio counts (at least 2).</summary>
    public int MinimumThroughput { get; init; } = 10;

    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker keeps the deployment out of rotation before one probe request is let through.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record VirtualKeyOptions
{
    /// <summary>The key's hash, <c>sha256:</c> followed by 64 hex digits of SHA-256 over the key's UTF-8 bytes.</summary>
    public string KeyHash { get; init; } = "";

    public string? Team { get; init; }

    public string? User { get; init; }

    public string? Project { get; init; }
}
