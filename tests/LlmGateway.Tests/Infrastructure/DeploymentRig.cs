using System.ClientModel.Primitives;
using System.Globalization;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using OpenAI;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>
/// Several mock upstreams, each its own provider (<c>up0</c>, <c>up1</c>, ...), and a gateway whose models the test
/// configures over them: the fault-injection bench for routing and resilience.
/// </summary>
public sealed class DeploymentRig : IAsyncDisposable
{
    private DeploymentRig(MockProviderServer[] upstreams, GatewayServer gateway)
    {
        Upstreams = upstreams;
        Gateway = gateway;
    }

    public IReadOnlyList<MockProviderServer> Upstreams { get; }

    public GatewayServer Gateway { get; }

    /// <summary>Starts <paramref name="upstreamCount"/> mocks and a gateway; <paramref name="models"/> adds the model settings.</summary>
    public static async Task<DeploymentRig> StartAsync(int upstreamCount, Dictionary<string, string?> models)
    {
        var upstreams = new MockProviderServer[upstreamCount];
        try
        {
            var settings = new Dictionary<string, string?>(models)
            {
                ["Gateway:VirtualKeys:alice:KeyHash"] = VirtualKeyHash.Compute(TestSettings.VirtualKey).ToString(),
            };
            for (var i = 0; i < upstreamCount; i++)
            {
                upstreams[i] = await MockProviderServer.StartAsync();
                settings[$"Gateway:Providers:up{i}:Type"] = "OpenAICompatible";
                settings[$"Gateway:Providers:up{i}:BaseUrl"] = new Uri(upstreams[i].BaseAddress, "v1").ToString();
            }

            return new DeploymentRig(upstreams, await GatewayServer.StartAsync(settings));
        }
        catch
        {
            foreach (var upstream in upstreams)
            {
                if (upstream is not null)
                {
                    await upstream.DisposeAsync();
                }
            }

            throw;
        }
    }

    /// <summary>Settings for deployment <paramref name="index"/> of <paramref name="model"/> on provider <paramref name="provider"/>.</summary>
    public static void AddDeployment(Dictionary<string, string?> settings, string model, int index, string provider, int weight = 1, int priority = 0, string? upstreamModel = null)
    {
        var key = $"Gateway:Models:{model}:Deployments:{index.ToString(CultureInfo.InvariantCulture)}";
        settings[key + ":Provider"] = provider;
        settings[key + ":Weight"] = weight.ToString(CultureInfo.InvariantCulture);
        settings[key + ":Priority"] = priority.ToString(CultureInfo.InvariantCulture);
        settings[key + ":UpstreamModel"] = upstreamModel ?? "mock-gpt";
    }

    /// <summary>The official SDK with its own retries off, so that what a test measures is the gateway's.</summary>
    public OpenAIClient CreateOpenAIClient() =>
        new(new System.ClientModel.ApiKeyCredential(TestSettings.VirtualKey), new OpenAIClientOptions
        {
            Endpoint = Gateway.OpenAIEndpoint,
            NetworkTimeout = TimeSpan.FromSeconds(60),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    public HttpClient CreateHttpClient() => Gateway.CreateHttpClient(TestSettings.VirtualKey);

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        foreach (var upstream in Upstreams)
        {
            await upstream.DisposeAsync();
        }
    }
}
