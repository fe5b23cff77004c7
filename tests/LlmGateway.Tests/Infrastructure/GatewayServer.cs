using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using LlmGateway.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>
/// The real gateway on real Kestrel, bound to a free loopback port. Configuration comes only from the given
/// settings (or, with <see cref="StartWithShippedConfigurationAsync"/>, from the shipped appsettings.json).
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private readonly Factory _factory;

    private GatewayServer(Factory factory, Uri baseAddress)
    {
        _factory = factory;
        BaseAddress = baseAddress;
    }

    /// <summary>The gateway's root address; the OpenAI base URL is this plus <c>v1</c>.</summary>
    public Uri BaseAddress { get; }

    public Uri OpenAIEndpoint => new(BaseAddress, "v1");

    public IServiceProvider Services => _factory.Services;

    public static Task<GatewayServer> StartAsync(IReadOnlyDictionary<string, string?> settings) => StartAsync(settings, replaceConfiguration: true);

    public static Task<GatewayServer> StartWithShippedConfigurationAsync(IReadOnlyDictionary<string, string?>? overrides = null) =>
        StartAsync(overrides ?? new Dictionary<string, string?>(), replaceConfiguration: false);

    private static async Task<GatewayServer> StartAsync(IReadOnlyDictionary<string, string?> settings, bool replaceConfiguration)
    {
        var factory = new Factory(settings, replaceConfiguration);
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        var server = new GatewayServer(factory, new Uri(address.TrimEnd('/') + "/"));
        await server.WaitUntilReadyAsync();
        return server;
    }

    public HttpClient CreateHttpClient(string? virtualKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (virtualKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", virtualKey);
        }

        return client;
    }

    public OpenAIClient CreateOpenAIClient(string virtualKey) =>
        new(new ApiKeyCredential(virtualKey), new OpenAIClientOptions { Endpoint = OpenAIEndpoint, NetworkTimeout = TimeSpan.FromSeconds(60) });

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    private async Task WaitUntilReadyAsync()
    {
        using var client = CreateHttpClient();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var response = await client.GetAsync(new Uri("readyz", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("The gateway did not become ready within 5 seconds.");
    }

    private sealed class Factory(IReadOnlyDictionary<string, string?> settings, bool replaceConfiguration)
        : WebApplicationFactory<Program>
    {
        private static readonly Lazy<string[]> s_shippedLevels = new(() =>
            [.. new ConfigurationBuilder()
                .AddJsonFile(Path.Combine(RepositoryRoot.Path, "src", "LlmGateway", "appsettings.json"))
                .Build()
                .GetSection("Serilog:MinimumLevel:Override")
                .GetChildren()
                .Select(category => category.Path)]);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.ConfigureAppConfiguration((_, configuration) =>
            {
                if (replaceConfiguration)
                {
                    configuration.Sources.Clear();
                }

                // Silence the gateway's console logs unless a test asks for them: the shipped sink writes to this
                // process's standard output itself, where xUnit's runner reads its own messages, and a line written
                // into one of them loses that test's result. So the categories that the shipped appsettings.json
                // sets levels for (Microsoft.Hosting.Lifetime at Information, Yarp at Warning, ...) are silenced too.
                var quiet = new Dictionary<string, string?>(settings);
                foreach (var level in s_shippedLevels.Value.Prepend("Serilog:MinimumLevel:Default"))
                {
                    quiet[level] = settings.GetValueOrDefault(level) ?? "Fatal";
                }

                configuration.AddInMemoryCollection(quiet);
            });
        }
    }
}
