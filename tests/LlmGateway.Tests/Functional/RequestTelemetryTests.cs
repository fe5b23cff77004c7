using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using LlmGateway.MockProvider;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>A metered request leaves GenAI attributes on its server span and GenAI metrics in /metrics.</summary>
[Collection(TelemetryTestGroup.Name)]
public sealed class RequestTelemetryTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServerSpan_CarriesGenAiAttributes_AndNoSecrets()
    {
        const string TraceId = "0af7651916cd43dd8448eb211c80319c";
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId.ToHexString() == TraceId)
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        await using var gateway = await GatewayServer.StartAsync(TestSettings.Standard(upstream.BaseAddress));
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("gpt-test")) };
        request.Headers.Add("traceparent", $"00-{TraceId}-b7ad6b7169203331-01");

        using var response = await client.SendAsync(request, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);

        // The in-process mock upstream continues the same trace with a server span of its own; the gateway's is the
        // one that metering annotated.
        var deadline = Stopwatch.StartNew();
        while (!spans.Any(IsGateways) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, Cancel);
        }

        spans.Count.ShouldBe(2, "one server span in the gateway and one in the upstream, in the same trace");
        var span = spans.Where(IsGateways).ShouldHaveSingleItem();
        span.Kind.ShouldBe(ActivityKind.Server);
        span.GetTagItem("gen_ai.operation.name").ShouldBe("chat");
        span.GetTagItem("gen_ai.provider.name").ShouldBe("mock");
        span.GetTagItem("gen_ai.request.model").ShouldBe("gpt-test");
        span.GetTagItem("gen_ai.response.model").ShouldBe("mock-gpt");
        ((long)span.GetTagItem("gen_ai.usage.input_tokens")!).ShouldBeGreaterThan(0);
        span.GetTagItem("gen_ai.usage.output_tokens").ShouldBe(16L);
        span.GetTagItem("llm_gateway.key_id").ShouldBe("alice");
        span.GetTagItem("llm_gateway.team").ShouldBe("team-a");
        foreach (var (_, value) in span.EnumerateTagObjects())
        {
            var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            text.ShouldNotContain(TestSettings.VirtualKey);
            text.ShouldNotContain(TestSettings.UpstreamApiKey);
        }
    }

    private static bool IsGateways(Activity span) => span.GetTagItem("gen_ai.request.model") is not null;

    [Fact]
    public async Task Metrics_CountTokensAndRequests_ByModelProviderTeamAndKey()
    {
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        await using var gateway = await GatewayServer.StartAsync(TestSettings.Standard(upstream.BaseAddress));
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
        using (var ok = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test")), Cancel))
        {
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var metrics = await client.GetStringAsync(new Uri("metrics", UriKind.Relative), Cancel);

        var lines = metrics.Split('\n');
        lines.ShouldContain(l => l.StartsWith("gen_ai_client_token_usage_count{", StringComparison.Ordinal)
            && l.Contains("gen_ai_token_type=\"output\"", StringComparison.Ordinal) && l.Contains("gen_ai_request_model=\"gpt-test\"", StringComparison.Ordinal));
        lines.ShouldContain(l => l.StartsWith("gen_ai_client_operation_duration_seconds_bucket{", StringComparison.Ordinal)
            && l.Contains("gen_ai_operation_name=\"chat\"", StringComparison.Ordinal));
        lines.ShouldContain(l => l.StartsWith("llmgateway_requests_total{", StringComparison.Ordinal)
            && l.Contains("llm_gateway_key_id=\"alice\"", StringComparison.Ordinal) && l.Contains("llm_gateway_team=\"team-a\"", StringComparison.Ordinal));
        metrics.ShouldNotContain(TestSettings.VirtualKey);
        var (exitCode, output) = await CommandLineTool.RunAsync("promtool", null, metrics, "check", "metrics");
        exitCode.ShouldBe(0, output);
    }
}
