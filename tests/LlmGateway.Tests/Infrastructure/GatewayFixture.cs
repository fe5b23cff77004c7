using System.ClientModel;
using LlmGateway.MockProvider;
using OpenAI;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>One mock upstream and one gateway in front of it, shared by the functional tests of a collection.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public MockProviderServer Upstream { get; private set; } = null!;

    public GatewayServer Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        Gateway = await GatewayServer.StartAsync(TestSettings.Standard(Upstream.BaseAddress));
    }

    /// <summary>A client that talks to the mock upstream directly, to compare with what the gateway returns.</summary>
    public OpenAIClient CreateDirectClient() =>
        new(new ApiKeyCredential(TestSettings.UpstreamApiKey), new OpenAIClientOptions { Endpoint = new Uri(Upstream.BaseAddress, "v1") });

    public HttpClient CreateDirectHttpClient()
    {
        var client = new HttpClient { BaseAddress = Upstream.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestSettings.UpstreamApiKey);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayTestGroup : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
