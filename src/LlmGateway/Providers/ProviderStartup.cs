using LlmGateway.Configuration;
using LlmGateway.MockProvider;
using LlmGateway.Proxy;

namespace LlmGateway.Providers;

/// <summary>
/// Brings providers up at start-up: starts embedded mock providers on loopback ports and publishes their
/// addresses to the proxy, and warns about providers whose API key variable is not set.
/// </summary>
internal sealed partial class ProviderStartup(ProviderRegistry providers, GatewayProxyConfigProvider proxyConfig, ILogger<ProviderStartup> logger)
    : IHostedService, IAsyncDisposable
{
    private readonly List<MockProviderServer> _embedded = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var provider in providers.All)
        {
            if (provider.Type == ProviderType.Mock)
            {
                var server = await MockProviderServer.StartAsync(null, cancellationToken);
                lock (_embedded)
                {
                    _embedded.Add(server);
                }

                provider.BaseAddress = new Uri(server.BaseAddress, "v1");
                LogEmbeddedStarted(logger, provider.Name, provider.BaseAddress);
            }
            else if (provider.ApiKeyEnvironmentVariable is { } variable && provider.CredentialHeaderValue is null)
            {
                LogMissingApiKey(logger, provider.Name, variable);
            }
        }

        proxyConfig.Refresh();
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        // The host stops this service and then disposes it: whichever comes first takes the servers.
        MockProviderServer[] servers;
        lock (_embedded)
        {
            servers = [.. _embedded];
            _embedded.Clear();
        }

        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Embedded mock provider {Provider} listens on {BaseAddress}")]
    private static partial void LogEmbeddedStarted(ILogger logger, string provider, Uri baseAddress);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning,
        Message = "Provider {Provider}: environment variable {Variable} is not set, so requests go upstream without credentials.")]
    private static partial void LogMissingApiKey(ILogger logger, string provider, string variable);
}
