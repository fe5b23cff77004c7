using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

[Collection(GatewayTestGroup.Name)]
public sealed partial class ProxyBehaviourTests(GatewayFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Authorization", "Bearer " + TestSettings.VirtualKey)]
    [InlineData("api-key", TestSettings.VirtualKey)]
    [InlineData("x-api-key", TestSettings.OtherVirtualKey)]
    public async Task SendsTheProviderKeyUpstream_AndNeverTheClientsKey(string header, string value)
    {
        using var client = fixture.Gateway.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt")) };
        request.Headers.TryAddWithoutValidation(header, value);
        request.Headers.Add("OpenAI-Organization", "org-client");

        using var response = await client.SendAsync(request, Cancel);

        // The mock requires the upstream key, so a 200 already shows the gateway swapped credentials.
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var seen = fixture.Upstream.Stats.LastRequestHeaders;
        seen["Authorization"].ShouldBe("Bearer " + TestSettings.UpstreamApiKey);
        seen.Keys.ShouldNotContain(k => k.Equals("api-key", StringComparison.OrdinalIgnoreCase) || k.Equals("x-api-key", StringComparison.OrdinalIgnoreCase));
        seen.Keys.ShouldNotContain(k => k.Equals("OpenAI-Organization", StringComparison.OrdinalIgnoreCase));
        seen.Keys.ShouldNotContain(k => k.StartsWith("X-Forwarded", StringComparison.OrdinalIgnoreCase));
        seen.Values.ShouldNotContain(v => v.Contains(TestSettings.VirtualKey, StringComparison.Ordinal) || v.Contains(TestSettings.OtherVirtualKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Streaming_ForwardsTheUpstreamsBytes_Unchanged()
    {
        var body = ChatBody("mock-gpt", stream: true);
        using var gateway = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var direct = fixture.CreateDirectHttpClient();

        using var viaGateway = await gateway.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(body), Cancel);
        using var fromUpstream = await direct.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(body), Cancel);

        viaGateway.StatusCode.ShouldBe(HttpStatusCode.OK);
        viaGateway.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var gatewayText = await viaGateway.Content.ReadAsStringAsync(Cancel);
        var upstreamText = await fromUpstream.Content.ReadAsStringAsync(Cancel);
        gatewayText.ShouldEndWith("data: [DONE]\n\n");

        // Metering asks the upstream for usage, so each chunk carries "usage":null and the usage-only chunk is
        // dropped before the client: apart from that field, the client gets the upstream's bytes.
        gatewayText.ShouldContain("\"usage\":null");
        Normalize(gatewayText.Replace(",\"usage\":null", "", StringComparison.Ordinal)).ShouldBe(Normalize(upstreamText));
    }

    [Fact]
    public async Task Streaming_ForwardsEachChunkAsItArrives_WithoutBuffering()
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt", stream: true)) };
        request.Headers.Add("x-mock-token-delay-ms", "300");
        request.Headers.Add("x-mock-completion-tokens", "6");

        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
        TimeSpan? firstContent = null;
        while (await reader.ReadLineAsync(Cancel) is { } line)
        {
            if (firstContent is null && line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
            {
                firstContent = clock.Elapsed;
            }
        }

        var end = clock.Elapsed;
        firstContent.ShouldNotBeNull();
        // Six tokens 300 ms apart: a buffering proxy would deliver the first one at the end.
        (end - firstContent.Value).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamRequest()
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt", stream: true)) };
        request.Headers.Add("x-mock-token-delay-ms", "200");
        request.Headers.Add("x-mock-completion-tokens", "200");
        var cancelledBefore = fixture.Upstream.Stats.CancelledRequests;

        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
            (await reader.ReadLineAsync(Cancel)).ShouldStartWith("data: ");
        }

        // Disposing the response aborts the connection; the upstream must see its request cancelled long
        // before the 40 s the stream would take.
        var deadline = Stopwatch.StartNew();
        while (fixture.Upstream.Stats.CancelledRequests == cancelledBefore && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50, Cancel);
        }

        fixture.Upstream.Stats.CancelledRequests.ShouldBeGreaterThan(cancelledBefore);
    }

    [Theory]
    [InlineData("v1/completions", """{"model":"mock-gpt","prompt":"Once upon a time"}""", "text_completion")]
    [InlineData("v1/responses", """{"model":"mock-gpt","input":"Tell me a story"}""", "response")]
    [InlineData("v1/embeddings", """{"model":"mock-embed","input":["a","b"],"encoding_format":"float"}""", "list")]
    public async Task ProxiesEveryOperation(string path, string body, string expectedObject)
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);

        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), Json(body), Cancel);

        var text = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        JsonDocument.Parse(text).RootElement.GetProperty("object").GetString().ShouldBe(expectedObject);
    }

    [Fact]
    public async Task HealthProbes_NeedNoKey()
    {
        using var client = fixture.Gateway.CreateHttpClient();
        (await client.GetStringAsync(new Uri("healthz", UriKind.Relative), Cancel)).ShouldBe("ok");
        (await client.GetStringAsync(new Uri("readyz", UriKind.Relative), Cancel)).ShouldBe("ready");
    }

    /// <summary>Ids and timestamps differ between any two calls; everything else must match byte for byte.</summary>
    private static string Normalize(string sse) => Timestamp().Replace(CompletionId().Replace(sse, "\"id\":\"<id>\""), "\"created\":0");

    [GeneratedRegex("\"id\":\"[^\"]+\"")]
    private static partial Regex CompletionId();

    [GeneratedRegex("\"created\":\\d+")]
    private static partial Regex Timestamp();
}
