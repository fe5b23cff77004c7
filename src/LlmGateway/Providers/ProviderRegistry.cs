using LlmGateway.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Providers;

/// <summary>The configured providers, resolved once at start-up.</summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, UpstreamProvider> _providers = new(StringComparer.OrdinalIgnoreCase);

    public ProviderRegistry(IOptions<GatewayOptions> options, IConfiguration configuration)
    {
        foreach (var (name, provider) in options.Value.Providers)
        {
            var baseUrl = provider.Type == ProviderType.Mock ? null : ProviderEndpoint.EffectiveBaseUrl(provider, configuration);
            var baseAddress = baseUrl is null ? null : new Uri(baseUrl.TrimEnd('/'), UriKind.Absolute);
            var apiKey = provider.ApiKeyEnvironmentVariable is { Length: > 0 } variable ? configuration[variable] : null;
            _providers[name] = new UpstreamProvider(name, provider, baseAddress, apiKey);
        }
    }

    public IEnumerable<UpstreamProvider> All => _providers.Values;

    public UpstreamProvider Get(string name) => _providers[name];

    /// <summary>Whether every provider has an address to forward to (embedded providers have started).</summary>
    public bool AllReady
    {
        get
        {
            foreach (var provider in _providers.Values)
            {
                if (provider.BaseAddress is null)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
