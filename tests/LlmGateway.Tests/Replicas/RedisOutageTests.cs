using System.Globalization;
using System.Net;
using System.Text.Json;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Replicas;

/// <summary>Redis goes away under a gateway: fail-open routes serve and reconcile later, fail-closed routes refuse.</summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private const string AdminKey = "sk-gw-admin-test-0003";

    private RedisServer _redis = null!;
    private MockProviderServer _upstream = null!;
    private GatewayServer _gateway = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = TestSettings.Standard(_upstream.BaseAddress);
        settings["ConnectionStrings:Redis"] = _redis.ConnectionString;
        settings["Gateway:Admin:KeyHash"] = VirtualKeyHash.Compute(AdminKey).ToString();
        settings["Gateway:Metering:Prices:gpt-test:Input"] = "3";
        settings["Gateway:Metering:Prices:gpt-test:Output"] = "15";
        settings["Gateway:Budgets:Keys:alice:LimitUsd"] = "10";
        settings["Gateway:RateLimits:Keys:alice:RequestsPerMinute"] = "1000";
        settings["Gateway:Metering:Routes:mock-*:RedisFailureMode"] = "FailClosed";
        _gateway = await GatewayServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task FailOpenRoutesServe_AndTheirSpendReachesRedisWhenItIsBack_WhileFailClosedRoutesRefuse()
    {
        using var client = _gateway.CreateHttpClient(TestSettings.VirtualKey);
        await _redis.KillAsync();

        using var open = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test")), Cancel);
        using var closed = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel);

        open.StatusCode.ShouldBe(HttpStatusCode.OK);
        var cost = decimal.Parse(open.Headers.GetValues("x-gateway-cost-usd").Single(), CultureInfo.InvariantCulture);
        await closed.ShouldBeOpenAiErrorAsync(HttpStatusCode.ServiceUnavailable, "metering_unavailable");

        await _redis.RestartAsync(Cancel);

        // The record and the budget settlement waited in memory; both land once Redis answers again.
        using var admin = _gateway.CreateHttpClient(AdminKey);
        var counter = $"llmgw:budget:key:alice:m{DateTime.UtcNow:yyyyMM}";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            // Until the gateway has reconnected, the spend API answers 503.
            using var answer = await admin.GetAsync(new Uri("admin/spend?group_by=key", UriKind.Relative), Cancel);
            answer.StatusCode.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable);
            var spend = answer.IsSuccessStatusCode
                ? JsonDocument.Parse(await answer.Content.ReadAsStringAsync(Cancel)).RootElement.GetProperty("data")
                : default;
            var reply = (await _redis.ExecuteAsync("GET", counter)).Split("\r\n");
            if (spend.ValueKind == JsonValueKind.Array && spend.GetArrayLength() == 1 && reply[0] != "$-1")
            {
                spend[0].GetProperty("value").GetString().ShouldBe("alice");
                spend[0].GetProperty("requests").GetInt64().ShouldBe(1);
                spend[0].GetProperty("cost_usd").GetDecimal().ShouldBe(cost);
                (long.Parse(reply[1], CultureInfo.InvariantCulture) / 1_000_000_000_000m).ShouldBe(cost);
                return;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"the deferred writes did not reach Redis within 30 s of its return (spend API {(int)answer.StatusCode}: {spend}, budget counter: {string.Join("|", reply)})");
            await Task.Delay(200, Cancel);
        }
    }
}
