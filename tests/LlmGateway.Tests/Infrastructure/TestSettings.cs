using System.Net;
using System.Net.Sockets;
using LlmGateway.Authentication;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>The gateway configuration functional tests run against: a mock upstream, a dead one and virtual keys.</summary>
public static class TestSettings
{
    public const string VirtualKey = "sk-gw-test-alice-0001";
    public const string OtherVirtualKey = "sk-gw-test-bob-0002";
    public const string UpstreamApiKey = "sk-upstream-secret-9f8e7d";

    public static Dictionary<string, string?> Standard(Uri mockBaseAddress, long maxRequestBodyBytes = 64 * 1024) => new()
    {
        ["Gateway:MaxRequestBodyBytes"] = maxRequestBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),

        ["Gateway:Providers:mock:Type"] = "OpenAICompatible",
        ["Gateway:Providers:mock:BaseUrl"] = new Uri(mockBaseAddress, "v1").ToString(),
        ["Gateway:Providers:mock:ApiKeyEnvironmentVariable"] = "TEST_UPSTREAM_API_KEY",
        ["TEST_UPSTREAM_API_KEY"] = UpstreamApiKey,

        ["Gateway:Providers:impatient:Type"] = "OpenAICompatible",
        ["Gateway:Providers:impatient:BaseUrl"] = new Uri(mockBaseAddress, "v1").ToString(),
        ["Gateway:Providers:impatient:ApiKeyEnvironmentVariable"] = "TEST_UPSTREAM_API_KEY",
        ["Gateway:Providers:impatient:ResponseTimeout"] = "00:00:01",

        ["Gateway:Providers:dead:Type"] = "OpenAICompatible",
        ["Gateway:Providers:dead:BaseUrl"] = $"http://127.0.0.1:{UnusedPort()}/v1",
        ["Gateway:Providers:dead:ConnectTimeout"] = "00:00:02",

        ["Gateway:Models:gpt-test:Provider"] = "mock",
        ["Gateway:Models:gpt-test:UpstreamModel"] = "mock-gpt",
        ["Gateway:Models:gpt-test:Aliases:0"] = "gpt-test-alias",
        ["Gateway:Models:mock-*:Provider"] = "mock",
        ["Gateway:Models:slow-model:Provider"] = "impatient",
        ["Gateway:Models:slow-model:UpstreamModel"] = "mock-gpt",
        ["Gateway:Models:dead-model:Provider"] = "dead",

        // The shared fixture's tests check what one attempt does (errors pass through, timeouts are 504): retries
        // and circuit breakers would change those answers across tests. Resilience has its own tests and settings.
        ["Gateway:Models:gpt-test:Retry:MaxAttempts"] = "1",
        ["Gateway:Models:gpt-test:CircuitBreaker:Enabled"] = "false",
        ["Gateway:Models:mock-*:Retry:MaxAttempts"] = "1",
        ["Gateway:Models:mock-*:CircuitBreaker:Enabled"] = "false",
        ["Gateway:Models:slow-model:Retry:MaxAttempts"] = "1",
        ["Gateway:Models:slow-model:CircuitBreaker:Enabled"] = "false",
        ["Gateway:Models:dead-model:Retry:MaxAttempts"] = "1",
        ["Gateway:Models:dead-model:CircuitBreaker:Enabled"] = "false",

        ["Gateway:VirtualKeys:alice:KeyHash"] = VirtualKeyHash.Compute(VirtualKey).ToString(),
        ["Gateway:VirtualKeys:alice:Team"] = "team-a",
        ["Gateway:VirtualKeys:bob:KeyHash"] = VirtualKeyHash.Compute(OtherVirtualKey).ToString(),
        ["Gateway:VirtualKeys:bob:Team"] = "team-b",
    };

    /// <summary>A loopback port nothing listens on: connections to it are refused at once.</summary>
    public static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
