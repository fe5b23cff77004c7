using System.Net;
using System.Text.Json;
using LlmGateway.MockProvider;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <remarks>
/// Runs alone: OpenTelemetry subscribes to meters by name, so a meter provider in this process also aggregates the
/// same-named instruments of every other gateway a test started, and when one of those hosts is disposed mid-test
/// its instruments end and take their metric streams with them.
/// </remarks>
[Collection(TelemetryTestGroup.Name)]
public sealed class TelemetryTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TraceContext_IsPropagatedUpstream_AndReturnedToTheClient()
    {
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        await using var gateway = await GatewayServer.StartAsync(TestSettings.Standard(upstream.BaseAddress));
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
        const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt")) };
        request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");

        using var response = await client.SendAsync(request, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("traceparent").Single().ShouldStartWith($"00-{TraceId}-");
        upstream.Stats.LastRequestHeaders["traceparent"].ShouldStartWith($"00-{TraceId}-");
    }

    [Fact]
    public async Task WithoutAnExporter_ARequestWithNoTraceContext_StillGetsOneTraceId_ForTheClientAndTheUpstream()
    {
        // No OtlpEndpoint: spans are not recorded, but each request's root activity still exists for propagation.
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        await using var gateway = await GatewayServer.StartAsync(TestSettings.Standard(upstream.BaseAddress));
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var returned = response.Headers.GetValues("traceparent").Single().Split('-');
        returned.Length.ShouldBe(4);
        returned[1].ShouldNotBe(new string('0', 32));
        upstream.Stats.LastRequestHeaders["traceparent"].Split('-')[1].ShouldBe(returned[1]);
    }

    [Fact]
    public async Task MetricsEndpoint_PassesPromtool_AndIsScrapedByARealPrometheus()
    {
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        await using var gateway = await GatewayServer.StartAsync(TestSettings.Standard(upstream.BaseAddress));
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel);
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var notFound = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("no-such-model")), Cancel))
        {
            notFound.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        using var metricsResponse = await client.GetAsync(new Uri("metrics", UriKind.Relative), Cancel);
        metricsResponse.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        var text = await metricsResponse.Content.ReadAsStringAsync(Cancel);
        text.ShouldContain("# TYPE http_server_request_duration_seconds histogram");
        text.ShouldContain("http_server_request_duration_seconds_bucket{");
        // The runtime's meter: memory and GC, for the dashboard's memory panel.
        text.ShouldContain("# TYPE dotnet_process_memory_working_set_bytes gauge");
        text.ShouldContain("dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"gen0\"}");
        text.ShouldContain("# TYPE dotnet_gc_pause_time_seconds_total counter");

        var (exitCode, promtoolOutput) = await CommandLineTool.RunAsync("promtool", null, text, "check", "metrics");
        exitCode.ShouldBe(0, promtoolOutput);

        var gatewayTarget = $"{gateway.BaseAddress.Host}:{gateway.BaseAddress.Port}";
        await using var prometheus = await PrometheusServer.StartAsync(gatewayTarget, "/metrics", TimeSpan.FromSeconds(1), Cancel);
        await prometheus.WaitForScrapesAsync(2, TimeSpan.FromSeconds(90), Cancel);
        var result = await prometheus.QueryAsync("""sum by (http_response_status_code) (http_server_request_duration_seconds_count{http_route="/v1/chat/completions"})""", Cancel);
        var series = JsonDocument.Parse(result).RootElement.GetProperty("data").GetProperty("result");
        var byStatus = series.EnumerateArray().ToDictionary(
            s => s.GetProperty("metric").GetProperty("http_response_status_code").GetString()!,
            s => double.Parse(s.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        byStatus["200"].ShouldBeGreaterThanOrEqualTo(3);
        byStatus["404"].ShouldBeGreaterThanOrEqualTo(1);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryTestGroup
{
    public const string Name = "telemetry";
}
