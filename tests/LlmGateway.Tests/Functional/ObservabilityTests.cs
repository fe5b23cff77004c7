using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using LlmGateway.MockProvider;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>
/// What operators see beyond the per-request basics: an exported OTLP trace, time to first token, budget gauges,
/// upstream attempts and breaker state, and the log line of a refused request.
/// </summary>
[Collection(TelemetryTestGroup.Name)]
public sealed class ObservabilityTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExportedOtlpTrace_CarriesTheGenAiAttributes_OnTheServerSpanAndTheAttemptSpan()
    {
        const string TraceId = "5b8efff798038103d269b633813fc60c";
        const string StreamTraceId = "6c9f0008a9149214e37ac744924fd71d";
        string answerId, streamId;
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        var settings = ExportingTo(receiver, upstream);
        settings["Gateway:Metering:Prices:mock-gpt:Input"] = "2.5";
        settings["Gateway:Metering:Prices:mock-gpt:Output"] = "10";
        var gateway = await GatewayServer.StartAsync(settings);
        await using (gateway)
        {
            using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = Json("""{"model":"gpt-test","messages":[{"role":"user","content":"Hello"}],"max_tokens":64,"temperature":0.25}"""),
            };
            request.Headers.Add("traceparent", $"00-{TraceId}-b7ad6b7169203331-01");
            using var response = await client.SendAsync(request, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
            answerId = answer.RootElement.GetProperty("id").GetString()!;
            answer.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString().ShouldBe("stop");

            using var streamRequest = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("gpt-test", stream: true)) };
            streamRequest.Headers.Add("traceparent", $"00-{StreamTraceId}-c8be7c827a314442-01");
            using var streamed = await client.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead, Cancel);
            streamed.StatusCode.ShouldBe(HttpStatusCode.OK);
            var events = await streamed.Content.ReadAsStringAsync(Cancel);
            using var firstChunk = JsonDocument.Parse(events.Split('\n').First(line => line.StartsWith("data: {", StringComparison.Ordinal))["data: ".Length..]);
            streamId = firstChunk.RootElement.GetProperty("id").GetString()!;
            events.ShouldContain("\"finish_reason\":\"stop\"");
        }

        // Stopping the gateway flushes its exporters; allow the batch a moment to arrive all the same.
        var waited = Stopwatch.StartNew();
        while (!(receiver.Spans.Any(s => s.TraceId == TraceId && s.Kind == SpanKind.Client) && receiver.Spans.Any(s => s.TraceId == StreamTraceId && s.Kind == SpanKind.Client))
            && waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50, Cancel);
        }

        receiver.Paths.ShouldContain("/v1/traces");
        receiver.Paths.ShouldContain("/v1/metrics", "metrics go to their own OTLP path, not to the traces path");
        var trace = receiver.Spans.Where(s => s.TraceId == TraceId).ToList();
        var server = trace.Where(s => s.Kind == SpanKind.Server && s.Attributes.ContainsKey("gen_ai.request.model")).ShouldHaveSingleItem();
        server.Scope.ShouldBe("Microsoft.AspNetCore");
        server.Attributes["gen_ai.operation.name"].ShouldBe("chat");
        server.Attributes["gen_ai.provider.name"].ShouldBe("mock");
        server.Attributes["gen_ai.request.model"].ShouldBe("gpt-test");
        server.Attributes["gen_ai.response.model"].ShouldBe("mock-gpt");
        answerId.ShouldStartWith("chatcmpl-");
        server.Attributes["gen_ai.response.id"].ShouldBe(answerId);
        server.Attributes["gen_ai.response.finish_reasons"].ShouldBe(new object[] { "stop" });
        ((long)server.Attributes["gen_ai.usage.input_tokens"]).ShouldBeGreaterThan(0);
        server.Attributes["gen_ai.usage.output_tokens"].ShouldBe(16L);
        server.Attributes["llm_gateway.key_id"].ShouldBe("alice");
        server.Attributes["llm_gateway.team"].ShouldBe("team-a");
        ((double)server.Attributes["llm_gateway.cost_usd"]).ShouldBeGreaterThan(0);
        server.Attributes["llm_gateway.cache.result"].ShouldBe("none");

        var attempt = trace.Where(s => s.Kind == SpanKind.Client && s.Scope == "LlmGateway").ShouldHaveSingleItem();
        attempt.Name.ShouldBe("chat mock-gpt");
        // server span -> attempt -> HttpClient's call upstream; YARP's proxy.forwarder only when ProxySpans is on.
        attempt.ParentSpanId.ShouldBe(server.SpanId);
        trace.ShouldNotContain(s => s.Scope == "Yarp.ReverseProxy");
        trace.ShouldContain(s => s.Scope == "System.Net.Http" && s.Kind == SpanKind.Client && s.ParentSpanId == attempt.SpanId);
        attempt.Attributes["gen_ai.operation.name"].ShouldBe("chat");
        attempt.Attributes["gen_ai.provider.name"].ShouldBe("mock");
        attempt.Attributes["gen_ai.request.model"].ShouldBe("mock-gpt");
        attempt.Attributes["gen_ai.request.max_tokens"].ShouldBe(64L);
        attempt.Attributes["gen_ai.request.temperature"].ShouldBe(0.25);
        attempt.Attributes["server.address"].ShouldBe("127.0.0.1");
        attempt.Attributes["llm_gateway.deployment"].ShouldBe("mock/mock-gpt");
        attempt.Attributes["llm_gateway.attempt"].ShouldBe(1L);
        attempt.Attributes["http.response.status_code"].ShouldBe(200L);

        var streamServer = receiver.Spans.Where(s => s.TraceId == StreamTraceId && s.Kind == SpanKind.Server && s.Attributes.ContainsKey("gen_ai.request.model"))
            .ShouldHaveSingleItem();
        streamId.ShouldStartWith("chatcmpl-");
        streamId.ShouldNotBe(answerId);
        streamServer.Attributes["gen_ai.response.id"].ShouldBe(streamId);
        streamServer.Attributes["gen_ai.response.finish_reasons"].ShouldBe(new object[] { "stop" });

        foreach (var value in trace.SelectMany(s => s.Attributes.Values))
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            text.ShouldNotContain(TestSettings.VirtualKey);
            text.ShouldNotContain(TestSettings.UpstreamApiKey);
        }
    }

    [Fact]
    public async Task ProxySpans_PutYarpsForwarderSpan_BetweenTheServerSpanAndTheAttempt()
    {
        const string TraceId = "7d0a1119ba25a325f48bd855a35ae82e";
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        var settings = ExportingTo(receiver, upstream);
        settings["Gateway:Telemetry:ProxySpans"] = "true";
        var gateway = await GatewayServer.StartAsync(settings);
        await using (gateway)
        {
            using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("gpt-test")) };
            request.Headers.Add("traceparent", $"00-{TraceId}-d9cf8d938b425553-01");
            using var response = await client.SendAsync(request, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var waited = Stopwatch.StartNew();
        while (!receiver.Spans.Any(s => s.TraceId == TraceId && s.Scope == "LlmGateway") && waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50, Cancel);
        }

        var trace = receiver.Spans.Where(s => s.TraceId == TraceId).ToList();
        var server = trace.Where(s => s.Kind == SpanKind.Server && s.Attributes.ContainsKey("gen_ai.request.model")).ShouldHaveSingleItem();
        var attempt = trace.Where(s => s.Kind == SpanKind.Client && s.Scope == "LlmGateway").ShouldHaveSingleItem();
        var forwarder = trace.Single(s => s.SpanId == attempt.ParentSpanId);
        forwarder.Scope.ShouldBe("Yarp.ReverseProxy");
        forwarder.ParentSpanId.ShouldBe(server.SpanId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(2)]
    public async Task TraceExports_CarryAtMostTheConfiguredBatchOfSpans(int? batchSize)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        var settings = ExportingTo(receiver, upstream);
        if (batchSize is { } size)
        {
            settings["Gateway:Telemetry:TraceExportBatchSize"] = size.ToString(CultureInfo.InvariantCulture);
        }

        var gateway = await GatewayServer.StartAsync(settings);
        await using (gateway)
        {
            using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
            for (var i = 0; i < 4; i++)
            {
                using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test")), Cancel);
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
            }
        }

        // Stopping the gateway flushed every span: three per request (server, attempt, HTTP client).
        var sizes = receiver.TraceExportSizes.ToArray();
        sizes.Sum().ShouldBeGreaterThanOrEqualTo(12);
        if (batchSize is { } expected)
        {
            sizes.ShouldAllBe(count => count <= expected);
        }
        else
        {
            sizes.Max().ShouldBeGreaterThan(2, "the default batch of 512 sends these requests' spans together");
        }
    }

    /// <summary>The standard test gateway's settings, exporting its traces and metrics over OTLP/HTTP to <paramref name="receiver"/>.</summary>
    private static Dictionary<string, string?> ExportingTo(OtlpReceiver receiver, MockProviderServer upstream)
    {
        var settings = TestSettings.Standard(upstream.BaseAddress);
        settings["Gateway:Telemetry:OtlpEndpoint"] = receiver.BaseAddress.ToString();
        settings["Gateway:Telemetry:OtlpProtocol"] = "HttpProtobuf";
        return settings;
    }

    [Fact]
    public async Task StreamedAnswers_RecordTimeToFirstToken_AndWholeAnswersDoNot()
    {
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        await using var gateway = await GatewayServer.StartAsync(TestSettings.Standard(upstream.BaseAddress));
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
        using (var streamed = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-ttft", stream: true)) })
        {
            streamed.Headers.Add(MockProviderHeaders.TimeToFirstTokenMs, "300");
            streamed.Headers.Add(MockProviderHeaders.TokenDelayMs, "30");
            using var response = await client.SendAsync(streamed, HttpCompletionOption.ResponseHeadersRead, Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync(Cancel)).ShouldContain("[DONE]");
        }

        using (var whole = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-whole")), Cancel))
        {
            whole.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var metrics = await client.GetStringAsync(new Uri("metrics", UriKind.Relative), Cancel);

        var streamedModel = "gen_ai_request_model=\"mock-ttft\"";
        Value(metrics, "gen_ai_server_time_to_first_token_seconds_count", streamedModel, "gen_ai_provider_name=\"mock\"", "gen_ai_operation_name=\"chat\"",
            "gen_ai_response_model=\"mock-ttft\"").ShouldBe(1);
        var timeToFirstToken = Value(metrics, "gen_ai_server_time_to_first_token_seconds_sum", streamedModel)!.Value;
        timeToFirstToken.ShouldBeGreaterThanOrEqualTo(0.3, "the upstream waited 300 ms before its first chunk");
        var duration = Value(metrics, "gen_ai_client_operation_duration_seconds_sum", streamedModel)!.Value;
        timeToFirstToken.ShouldBeLessThan(duration, "16 tokens followed the first, 30 ms apart");
        Value(metrics, "gen_ai_server_time_to_first_token_seconds_count", "gen_ai_request_model=\"mock-whole\"").ShouldBeNull();
        var (exitCode, output) = await CommandLineTool.RunAsync("promtool", null, metrics, "check", "metrics");
        exitCode.ShouldBe(0, output);
    }

    [Fact]
    public async Task BudgetGauges_ReportRemainingLimitAndReset_AndFollowSpend()
    {
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        var settings = TestSettings.Standard(upstream.BaseAddress);
        settings["Gateway:Metering:Prices:mock-gpt:Input"] = "2.5";
        settings["Gateway:Metering:Prices:mock-gpt:Output"] = "10";
        settings["Gateway:Budgets:Keys:alice:LimitUsd"] = "1";
        settings["Gateway:Budgets:Keys:alice:Period"] = "Day";
        settings["Gateway:Budgets:Teams:team-b:LimitUsd"] = "5";
        settings["Gateway:Telemetry:BudgetRefreshInterval"] = "00:00:00.200";
        await using var gateway = await GatewayServer.StartAsync(settings);
        using var client = gateway.CreateHttpClient(TestSettings.VirtualKey);
        string[] alice = ["llm_gateway_budget_scope=\"key\"", "llm_gateway_budget_name=\"alice\"", "llm_gateway_budget_period=\"day\""];
        string[] teamB = ["llm_gateway_budget_scope=\"team\"", "llm_gateway_budget_name=\"team-b\"", "llm_gateway_budget_period=\"month\""];

        var before = await ScrapeUntilAsync(client, m => Value(m, "llmgateway_budget_remaining_usd", alice) == 1);
        Value(before, "llmgateway_budget_limit_usd", alice).ShouldBe(1);
        Value(before, "llmgateway_budget_remaining_usd", teamB).ShouldBe(5);
        Value(before, "llmgateway_budget_limit_usd", teamB).ShouldBe(5);
        var now = DateTimeOffset.UtcNow;
        var nextDay = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero).ToUnixTimeSeconds();
        var nextMonth = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1).ToUnixTimeSeconds();
        Value(before, "llmgateway_budget_reset_time_seconds", alice).ShouldBe(nextDay);
        Value(before, "llmgateway_budget_reset_time_seconds", teamB).ShouldBe(nextMonth);

        using var answer = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test")), Cancel);
        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        var cost = decimal.Parse(answer.Headers.GetValues("x-gateway-cost-usd").Single(), CultureInfo.InvariantCulture);
        cost.ShouldBeGreaterThan(0m);

        var after = await ScrapeUntilAsync(client, m => Value(m, "llmgateway_budget_remaining_usd", alice) < 1);
        Value(after, "llmgateway_budget_remaining_usd", alice)!.Value.ShouldBe((double)(1m - cost), 1e-12);
        Value(after, "llmgateway_budget_remaining_usd", teamB).ShouldBe(5, "team-a's spend is not team-b's");
    }

    [Fact]
    public async Task UpstreamAttempts_AreCountedByDeploymentAndOutcome_AndBreakerStateIsAGauge()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Strategy"] = "OrderedFallback",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "2",
            ["Gateway:Models:m:CircuitBreaker:FailureRatio"] = "1.0",
            ["Gateway:Models:m:CircuitBreaker:MinimumThroughput"] = "2",
            ["Gateway:Models:m:CircuitBreaker:BreakDuration"] = "00:05:00",
        };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.ErrorStatus = 500;
        using var client = rig.CreateHttpClient();
        var before = await client.GetStringAsync(new Uri("metrics", UriKind.Relative), Cancel);
        Value(before, "llmgateway_breaker_state", "llm_gateway_model=\"m\"", "llm_gateway_deployment=\"up0/mock-gpt\"").ShouldBe(0, "closed before any traffic");

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var metrics = await client.GetStringAsync(new Uri("metrics", UriKind.Relative), Cancel);

        string[] first = ["llm_gateway_model=\"m\"", "llm_gateway_deployment=\"up0/mock-gpt\"", "gen_ai_provider_name=\"up0\""];
        string[] second = ["llm_gateway_model=\"m\"", "llm_gateway_deployment=\"up1/mock-gpt\"", "gen_ai_provider_name=\"up1\""];
        Value(metrics, "llmgateway_upstream_attempts_total", [.. first, "llm_gateway_attempt_outcome=\"retryable_status\""])
            .ShouldBe(2, "two 500s held back and retried; then the breaker opened and the third request skipped the deployment");
        Value(metrics, "llmgateway_upstream_attempts_total", [.. second, "llm_gateway_attempt_outcome=\"passed\""]).ShouldBe(3);
        Value(metrics, "llmgateway_breaker_state", first).ShouldBe(2, "open");
        Value(metrics, "llmgateway_breaker_state", second).ShouldBe(0, "closed");
        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(2);
    }

    [Fact]
    public async Task RefusedRequests_LeaveOneStructuredLogLine_WithTheFieldsOfAMeteredOne()
    {
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey }, Cancel);
        var settings = TestSettings.Standard(upstream.BaseAddress);
        settings["Gateway:Metering:Prices:mock-gpt:Input"] = "2.5";
        settings["Gateway:Metering:Prices:mock-gpt:Output"] = "10";
        settings["Gateway:Budgets:Keys:bob:LimitUsd"] = "0.000001";
        settings["Gateway:Guardrails:Policies:codewords:Models:0"] = "mock-*";
        settings["Gateway:Guardrails:Policies:codewords:Guards:codename:Type"] = "DenyList";
        settings["Gateway:Guardrails:Policies:codewords:Guards:codename:Terms:0"] = "project titan";
        // The shipped sink, configured as appsettings.json configures it.
        settings["Serilog:Using:0"] = "LlmGateway";
        settings["Serilog:WriteTo:0:Name"] = "BatchedConsole";
        settings["Serilog:WriteTo:0:Args:formatter"] = "Serilog.Formatting.Json.JsonFormatter, Serilog";
        settings["Serilog:WriteTo:0:Args:flushInterval"] = "00:00:00.050";
        settings["Serilog:WriteTo:0:Args:bufferLimitBytes"] = "1048576";
        settings["Serilog:MinimumLevel:Override:LlmGateway.Requests"] = "Information";
        await using var gateway = await GatewayProcess.StartAsync(settings);
        using var alice = gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var bob = gateway.CreateHttpClient(TestSettings.OtherVirtualKey);
        using var stranger = gateway.CreateHttpClient("sk-gw-not-a-key-42");

        using (var ok = await alice.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel))
        {
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var unauthorized = await stranger.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel))
        {
            await unauthorized.ShouldBeOpenAiErrorAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        }

        using (var badJson = await alice.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json("{\"model\":"), Cancel))
        {
            await badJson.ShouldBeOpenAiErrorAsync(HttpStatusCode.BadRequest, "invalid_json");
        }

        using (var unknown = await alice.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("no-such-model")), Cancel))
        {
            await unknown.ShouldBeOpenAiErrorAsync(HttpStatusCode.NotFound, "model_not_found");
        }

        using (var blocked = await alice.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt", question: "Tell me about Project Titan")), Cancel))
        {
            await blocked.ShouldBeOpenAiErrorAsync(HttpStatusCode.BadRequest, "content_policy_violation");
        }

        using (var overBudget = await bob.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel))
        {
            await overBudget.ShouldBeOpenAiErrorAsync(HttpStatusCode.TooManyRequests, "budget_exceeded");
        }

        var waited = Stopwatch.StartNew();
        List<JsonElement> requestLines;
        do
        {
            await Task.Delay(100, Cancel);
            requestLines = RequestLogLines(gateway.Output);
        }
        while (requestLines.Count < 6 && waited.Elapsed < TimeSpan.FromSeconds(15));

        var metered = requestLines.Where(l => EventId(l) == 800).ShouldHaveSingleItem();
        var refused = requestLines.Where(l => EventId(l) == 801).ToList();
        refused.Select(l => (Property(l, "StatusCode"), Property(l, "ErrorCode"), Property(l, "KeyId"), Property(l, "Model"))).ShouldBe(
        [
            ("401", "invalid_api_key", null, null),
            ("400", "invalid_json", "alice", null),
            ("404", "model_not_found", "alice", "no-such-model"),
            ("400", "content_policy_violation", "alice", "mock-gpt"),
            ("429", "budget_exceeded", "bob", "mock-gpt"),
        ], ignoreOrder: true);
        var meteredFields = metered.GetProperty("Properties").EnumerateObject().Select(p => p.Name).Where(n => n != "EventId").ToHashSet();
        foreach (var line in refused)
        {
            meteredFields.ShouldBeSubsetOf(line.GetProperty("Properties").EnumerateObject().Select(p => p.Name));
            line.GetProperty("TraceId").GetString().ShouldNotBeNullOrEmpty();
            Property(line, "CostUsd").ShouldBe("0");
        }

        refused.ShouldContain(l => Property(l, "ErrorCode") == "content_policy_violation" && Property(l, "Team") == "team-a");
        refused.ShouldContain(l => Property(l, "ErrorCode") == "budget_exceeded" && Property(l, "Team") == "team-b");
        gateway.Output.ShouldNotContain(TestSettings.VirtualKey);
        gateway.Output.ShouldNotContain(TestSettings.OtherVirtualKey);
        gateway.Output.ShouldNotContain("sk-gw-not-a-key-42");
        gateway.Output.ShouldNotContain("Project Titan");
    }

    private static List<JsonElement> RequestLogLines(string output)
    {
        var lines = new List<JsonElement>();
        foreach (var line in output.Split('\n'))
        {
            if (line.Contains("\"SourceContext\":\"LlmGateway.Requests\"", StringComparison.Ordinal))
            {
                lines.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
        }

        return lines;
    }

    private static int EventId(JsonElement line) => line.GetProperty("Properties").GetProperty("EventId").GetProperty("Id").GetInt32();

    private static string? Property(JsonElement line, string name) =>
        line.GetProperty("Properties").TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;

    private static async Task<string> ScrapeUntilAsync(HttpClient client, Func<string, bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await client.GetStringAsync(new Uri("metrics", UriKind.Relative), Cancel);
            if (condition(metrics) || waited.Elapsed > TimeSpan.FromSeconds(15))
            {
                return metrics;
            }

            await Task.Delay(100, Cancel);
        }
    }

    /// <summary>The value of the first series named <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    internal static double? Value(string metrics, string name, params string[] labels)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal) && !line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            var labelText = line[..space];
            if (labels.All(l => labelText.Contains(l, StringComparison.Ordinal)))
            {
                return double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
