using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LlmGateway.MockProvider;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>
/// Every query of every panel of the shipped Grafana dashboard, run against a real Prometheus that scraped a gateway
/// which served answers (whole and streamed), errors, a guardrail block and a budget rejection, returns data.
/// </summary>
[Collection(TelemetryTestGroup.Name)]
public sealed class DashboardQueriesTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryDashboardQuery_ReturnsData_FromARealPrometheus()
    {
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        var settings = TestSettings.Standard(upstream.BaseAddress);
        settings["Gateway:Metering:Prices:mock-gpt:Input"] = "2.5";
        settings["Gateway:Metering:Prices:mock-gpt:Output"] = "10";
        settings["Gateway:Budgets:Keys:bob:LimitUsd"] = "0.000001";
        settings["Gateway:Guardrails:Policies:codewords:Models:0"] = "mock-*";
        settings["Gateway:Guardrails:Policies:codewords:Guards:codename:Type"] = "DenyList";
        settings["Gateway:Guardrails:Policies:codewords:Guards:codename:Terms:0"] = "project titan";

        // The cache on for every route, for the hit-rate and saved-dollars panels. The semantic cache's embeddings
        // model is the dead provider, so every semantic lookup fails and is counted, for the cache-errors panel.
        settings["Gateway:Cache:Enabled"] = "true";
        settings["Gateway:Cache:Semantic:Enabled"] = "true";
        settings["Gateway:Cache:Semantic:EmbeddingModel"] = "dead-model";

        // A model with its circuit breaker on (the standard ones have theirs off), for the breaker-state panel.
        settings["Gateway:Models:guarded-gpt:Provider"] = "mock";
        settings["Gateway:Models:guarded-gpt:UpstreamModel"] = "mock-gpt";
        await using var gateway = await GatewayServer.StartAsync(settings);

        // Rates need a series to grow between scrapes: traffic before Prometheus's first scrapes and again after them.
        await DriveTrafficAsync(gateway);
        await using var prometheus = await PrometheusServer.StartAsync($"{gateway.BaseAddress.Host}:{gateway.BaseAddress.Port}", "/metrics", TimeSpan.FromSeconds(1), Cancel);
        await prometheus.WaitForScrapesAsync(2, TimeSpan.FromSeconds(90), Cancel);
        await DriveTrafficAsync(gateway);
        await prometheus.WaitForScrapesAsync(5, TimeSpan.FromSeconds(90), Cancel);

        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(
            Path.Combine(RepositoryRoot.Path, "deploy", "grafana", "dashboards", "llmgateway-overview.json"), Cancel));
        var checkedQueries = 0;
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var expression = target.GetProperty("expr").GetString()!;
                var answer = JsonDocument.Parse(await prometheus.QueryAsync(expression, Cancel)).RootElement;
                var series = answer.GetProperty("data").GetProperty("result");
                series.GetArrayLength().ShouldBeGreaterThan(0, $"panel '{panel.GetProperty("title").GetString()}': {expression}");
                series.EnumerateArray().ShouldContain(
                    s => double.IsFinite(double.Parse(s.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)),
                    $"panel '{panel.GetProperty("title").GetString()}' has only NaN values: {expression}");
                checkedQueries++;
            }
        }

        checkedQueries.ShouldBe(32);
    }

    private static async Task DriveTrafficAsync(GatewayServer gateway)
    {
        using var alice = gateway.CreateHttpClient(TestSettings.VirtualKey);
        for (var i = 0; i < 3; i++)
        {
            // The first is stored in the cache, the others are hits.
            using var ok = await alice.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel);
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
            await gateway.CacheWritesSettledAsync();
        }

        // Not cached, so that both rounds land in the same time-to-first-token series (labelled by cache result) and
        // its rate is not zero.
        using (var streaming = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt", stream: true)) })
        {
            streaming.Headers.CacheControl = new CacheControlHeaderValue { NoStore = true };
            using var streamed = await alice.SendAsync(streaming, Cancel);
            streamed.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await streamed.Content.ReadAsStringAsync(Cancel)).ShouldContain("[DONE]");
        }

        using (var failing = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt")) })
        {
            failing.Headers.Add(MockProviderHeaders.ErrorStatus, "500");
            failing.Headers.CacheControl = new CacheControlHeaderValue { NoStore = true }; // not the cached answer
            using var error = await alice.SendAsync(failing, Cancel);
            error.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        }

        using (var blocked = await alice.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt", question: "Tell me about Project Titan")), Cancel))
        {
            await blocked.ShouldBeOpenAiErrorAsync(HttpStatusCode.BadRequest, "content_policy_violation");
        }

        using var bob = gateway.CreateHttpClient(TestSettings.OtherVirtualKey);
        using (var overBudget = await bob.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel))
        {
            await overBudget.ShouldBeOpenAiErrorAsync(HttpStatusCode.TooManyRequests, "budget_exceeded");
        }
    }
}
