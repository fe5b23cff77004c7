using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LlmGateway.Tests.Infrastructure;
using OpenAI.Chat;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>Fault injection against real mock upstreams: retries, failover, circuit breaking, weighted routing, streams.</summary>
public sealed class ResilienceTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RateLimitedAnswer_IsRetriedAfterItsRetryAfter()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Provider"] = "up0",
            ["Gateway:Models:m:UpstreamModel"] = "mock-gpt",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "2",
        };
        await using var rig = await DeploymentRig.StartAsync(1, settings);
        var upstream = rig.Upstreams[0];
        upstream.Options.FailNextStatus = 429;
        upstream.Options.RetryAfterSeconds = 1;
        upstream.Options.FailNextRequests = 1;
        var chat = rig.CreateOpenAIClient().GetChatClient("m");

        var clock = Stopwatch.StartNew();
        var result = await chat.CompleteChatAsync([new UserChatMessage("Hello")], cancellationToken: Cancel);
        var elapsed = clock.Elapsed;

        result.Value.Content[0].Text.ShouldStartWith("Mock answer to:");
        upstream.Stats.TotalRequests.ShouldBe(2);
        Header(result.GetRawResponse(), "x-gateway-attempts").ShouldBe("2");
        Header(result.GetRawResponse(), "x-gateway-deployment").ShouldBe("up0/mock-gpt");
        // The upstream asked for one second; the gateway waited it out rather than retrying at once.
        elapsed.ShouldBeGreaterThan(TimeSpan.FromMilliseconds(950));
        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task AnswersTheUpstreamsLastError_WhenAttemptsRunOut_OrItAsksForTooLongAWait()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Provider"] = "up0",
            ["Gateway:Models:m:UpstreamModel"] = "mock-gpt",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "3",
            ["Gateway:Models:m:Retry:BaseDelay"] = "00:00:00.010",
            ["Gateway:Models:m:Retry:MaxRetryAfter"] = "00:00:05",
            ["Gateway:Models:m:CircuitBreaker:Enabled"] = "false",
        };
        await using var rig = await DeploymentRig.StartAsync(1, settings);
        var upstream = rig.Upstreams[0];
        upstream.Options.ErrorStatus = 503;
        using var client = rig.CreateHttpClient();

        using (var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.ServiceUnavailable, "server_error");
            response.Headers.GetValues("x-gateway-attempts").ShouldBe(["3"]);
        }

        upstream.Stats.TotalRequests.ShouldBe(3);

        // A Retry-After beyond MaxRetryAfter, and no other deployment: the client gets the 429 at once to decide itself.
        upstream.Stats.Reset();
        upstream.Options.ErrorStatus = 429;
        upstream.Options.RetryAfterSeconds = 60;
        using (var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_exceeded");
            response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(60));
        }

        upstream.Stats.TotalRequests.ShouldBe(1);
    }

    [Fact]
    public async Task TotalDeadline_PassingWhileARetryWaits_Answers504_WithoutAnotherAttempt()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Provider"] = "up0",
            ["Gateway:Models:m:UpstreamModel"] = "mock-gpt",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "2",
            ["Gateway:Models:m:Timeouts:Total"] = "00:00:00.500",
            ["Gateway:Models:m:CircuitBreaker:Enabled"] = "false",
        };
        await using var rig = await DeploymentRig.StartAsync(1, settings);
        var upstream = rig.Upstreams[0];
        upstream.Options.ErrorStatus = 429;
        upstream.Options.RetryAfterSeconds = 10;
        using var client = rig.CreateHttpClient();

        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);

        // The 429 asked for ten seconds, within MaxRetryAfter; the half-second deadline ends the wait instead.
        await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.GatewayTimeout, "upstream_timeout");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(8));
        upstream.Stats.TotalRequests.ShouldBe(1);
    }

    [Fact]
    public async Task ClientLeavingWhileARetryWaits_EndsTheAttempts_AndTheGatewayKeepsServing()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Provider"] = "up0",
            ["Gateway:Models:m:UpstreamModel"] = "mock-gpt",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "2",
            ["Gateway:Models:m:CircuitBreaker:Enabled"] = "false",
        };
        await using var rig = await DeploymentRig.StartAsync(1, settings);
        var upstream = rig.Upstreams[0];
        upstream.Options.FailNextStatus = 429;
        upstream.Options.RetryAfterSeconds = 2;
        upstream.Options.FailNextRequests = 1;
        using var client = rig.CreateHttpClient();

        // The first attempt gets its 429 at once; the client gives up while the gateway waits the two seconds.
        var clock = Stopwatch.StartNew();
        using (var leaving = CancellationTokenSource.CreateLinkedTokenSource(Cancel))
        {
            leaving.CancelAfter(TimeSpan.FromMilliseconds(500));
            await Should.ThrowAsync<OperationCanceledException>(
                () => client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), leaving.Token));
        }

        // Had the wait gone on without the client, the retry would have reached the upstream at two seconds.
        await Task.Delay(TimeSpan.FromSeconds(3.5) - clock.Elapsed, Cancel);
        upstream.Stats.TotalRequests.ShouldBe(1);

        using var next = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);
        next.StatusCode.ShouldBe(HttpStatusCode.OK);
        next.Headers.GetValues("x-gateway-attempts").ShouldBe(["1"]);
    }

    [Fact]
    public async Task RefusedDeployment_FailsOverToTheNext_AtOnce()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Providers:dead:Type"] = "OpenAICompatible",
            ["Gateway:Providers:dead:BaseUrl"] = $"http://127.0.0.1:{TestSettings.UnusedPort()}/v1",
        };
        DeploymentRig.AddDeployment(settings, "m", 0, "dead", priority: 0);
        DeploymentRig.AddDeployment(settings, "m", 1, "up0", priority: 1);
        await using var rig = await DeploymentRig.StartAsync(1, settings);
        var chat = rig.CreateOpenAIClient().GetChatClient("m");

        var clock = Stopwatch.StartNew();
        var result = await chat.CompleteChatAsync([new UserChatMessage("Hello")], cancellationToken: Cancel);

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
        Header(result.GetRawResponse(), "x-gateway-deployment").ShouldBe("up0/mock-gpt");
        Header(result.GetRawResponse(), "x-gateway-attempts").ShouldBe("2");
        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(1);
    }

    [Fact]
    public async Task SilentDeployment_FailsOverToTheNext_WithinItsResponseTimeout()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Timeouts:Response"] = "00:00:00.500",
        };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0", priority: 0);
        DeploymentRig.AddDeployment(settings, "m", 1, "up1", priority: 1);
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.TimeToFirstTokenMs = 60_000;
        using var client = rig.CreateHttpClient();

        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);
        var elapsed = clock.Elapsed;

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        response.Headers.GetValues("x-gateway-deployment").ShouldBe(["up1/mock-gpt"]);
        elapsed.ShouldBeGreaterThan(TimeSpan.FromMilliseconds(450));
        elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
        rig.Upstreams[1].Stats.TotalRequests.ShouldBe(1);
    }

    [Fact]
    public async Task CircuitBreaker_OpensAfterTheConfiguredFailures_ShedsTraffic_AndClosesAfterRecovery()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Strategy"] = "OrderedFallback",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "2",
            ["Gateway:Models:m:CircuitBreaker:FailureRatio"] = "1.0",
            ["Gateway:Models:m:CircuitBreaker:MinimumThroughput"] = "3",
            ["Gateway:Models:m:CircuitBreaker:SamplingDuration"] = "00:01:00",
            ["Gateway:Models:m:CircuitBreaker:BreakDuration"] = "00:00:03",
        };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        var (primary, secondary) = (rig.Upstreams[0], rig.Upstreams[1]);
        primary.Options.ErrorStatus = 500;
        using var client = rig.CreateHttpClient();

        // Three failures at the primary, each cured by the secondary.
        for (var i = 0; i < 3; i++)
        {
            (await SendAsync(client)).ShouldBe(("up1/mock-gpt", "2"));
        }

        primary.Stats.TotalRequests.ShouldBe(3);

        // Open: the primary gets nothing, the secondary everything, in one attempt.
        for (var i = 0; i < 5; i++)
        {
            (await SendAsync(client)).ShouldBe(("up1/mock-gpt", "1"));
        }

        primary.Stats.TotalRequests.ShouldBe(3);

        // The primary recovers; after the break one probe finds it well and closes the breaker.
        primary.Options.ErrorStatus = null;
        await Task.Delay(TimeSpan.FromSeconds(3.5), Cancel);
        for (var i = 0; i < 3; i++)
        {
            (await SendAsync(client)).ShouldBe(("up0/mock-gpt", "1"));
        }

        primary.Stats.TotalRequests.ShouldBe(6);
        secondary.Stats.TotalRequests.ShouldBe(8);
    }

    [Fact]
    public async Task EveryBreakerOpen_Answers503_WithoutCallingUpstream()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Provider"] = "up0",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "1",
            ["Gateway:Models:m:CircuitBreaker:FailureRatio"] = "1.0",
            ["Gateway:Models:m:CircuitBreaker:MinimumThroughput"] = "2",
            ["Gateway:Models:m:CircuitBreaker:BreakDuration"] = "00:05:00",
        };
        await using var rig = await DeploymentRig.StartAsync(1, settings);
        rig.Upstreams[0].Options.ErrorStatus = 502;
        using var client = rig.CreateHttpClient();
        for (var i = 0; i < 2; i++)
        {
            using var failed = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);
            failed.StatusCode.ShouldBe(HttpStatusCode.BadGateway);
        }

        using var shed = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);

        await shed.ShouldBeOpenAiErrorAsync(HttpStatusCode.ServiceUnavailable, "deployments_unavailable");
        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(2);
    }

    [Fact]
    public async Task WeightedRouting_MatchesTheWeights_Over1000Requests()
    {
        var settings = new Dictionary<string, string?>();
        DeploymentRig.AddDeployment(settings, "m", 0, "up0", weight: 3);
        DeploymentRig.AddDeployment(settings, "m", 1, "up1", weight: 1);
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        using var client = rig.CreateHttpClient();
        const int total = 1000;

        await Parallel.ForAsync(0, total, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Cancel }, async (_, ct) =>
        {
            using var response = await client.PostAsync(new Uri("v1/embeddings", UriKind.Relative), Json("""{"model":"m","input":"x"}"""), ct);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        });

        var first = rig.Upstreams[0].Stats.TotalRequests;
        var second = rig.Upstreams[1].Stats.TotalRequests;
        (first + second).ShouldBe(total);
        ((double)first / total).ShouldBeInRange(0.70, 0.80);
    }

    [Fact]
    public async Task StreamFailingAfterTheFirstBytes_EndsWithAnErrorEvent_AndIsNeverSentUpstreamAgain()
    {
        var settings = new Dictionary<string, string?> { ["Gateway:Models:m:Strategy"] = "OrderedFallback" };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        using var client = rig.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("m", stream: true)) };
        request.Headers.Add("x-mock-completion-tokens", "12");
        request.Headers.Add("x-mock-fail-after-tokens", "4");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        events.Length.ShouldBeGreaterThan(1);
        events.ShouldContain(e => e.Contains("\"content\":\"", StringComparison.Ordinal));
        var last = events[^1];
        last.ShouldStartWith("data: ");
        var error = JsonDocument.Parse(last["data: ".Length..]).RootElement.GetProperty("error");
        error.GetProperty("code").GetString().ShouldBe("upstream_error");
        error.GetProperty("type").GetString().ShouldBe("server_error");
        text.ShouldNotContain("[DONE]");
        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(1);
        rig.Upstreams[1].Stats.TotalRequests.ShouldBe(0);
    }

    [Fact]
    public async Task ContextWindowError_FallsBackToTheLargerContextModel()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:small:Provider"] = "up0",
            ["Gateway:Models:small:UpstreamModel"] = "mock-gpt",
            ["Gateway:Models:small:ContextWindowFallback"] = "large",
            ["Gateway:Models:large:Provider"] = "up1",
            ["Gateway:Models:large:UpstreamModel"] = "mock-gpt-large",
        };
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.ErrorStatus = 400;
        rig.Upstreams[0].Options.ErrorCode = "context_length_exceeded";
        var chat = rig.CreateOpenAIClient().GetChatClient("small");

        var result = await chat.CompleteChatAsync([new UserChatMessage("A very long prompt")], cancellationToken: Cancel);

        result.Value.Model.ShouldBe("mock-gpt-large");
        Header(result.GetRawResponse(), "x-gateway-deployment").ShouldBe("up1/mock-gpt-large");
        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(1);
        rig.Upstreams[1].Stats.TotalRequests.ShouldBe(1);

        // Any other client error is the client's to see, unchanged.
        rig.Upstreams[0].Options.ErrorCode = "invalid_value";
        var rejected = await Should.ThrowAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Cancel));
        rejected.Status.ShouldBe(400);
        rejected.Message.ShouldContain("invalid_value");
        rig.Upstreams[1].Stats.TotalRequests.ShouldBe(1);
    }

    [Fact]
    public async Task FallbackModel_Serves_WhenEveryDeploymentOfTheModelFails()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:primary:Provider"] = "up0",
            ["Gateway:Models:primary:UpstreamModel"] = "mock-gpt",
            ["Gateway:Models:primary:Fallbacks:0"] = "backup",
            ["Gateway:Models:backup:Provider"] = "up1",
            ["Gateway:Models:backup:UpstreamModel"] = "mock-gpt-large",
        };
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.ErrorStatus = 503;
        using var client = rig.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("primary")), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("x-gateway-deployment").ShouldBe(["up1/mock-gpt-large"]);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).RootElement.GetProperty("model").GetString().ShouldBe("mock-gpt-large");
    }

    [Fact]
    public async Task EachAttempt_GoesWithItsDeploymentsKeyAndModelName_FromTheParsedBody()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Strategy"] = "OrderedFallback",
            ["Gateway:Providers:up0:ApiKeyEnvironmentVariable"] = "KEY_ZERO",
            ["KEY_ZERO"] = "sk-zero",
            ["Gateway:Providers:up1:ApiKeyEnvironmentVariable"] = "KEY_ONE",
            ["KEY_ONE"] = "sk-one",
        };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0", upstreamModel: "mock-gpt");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1", upstreamModel: "mock-gpt-large");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.RequiredApiKey = "sk-zero";
        rig.Upstreams[1].Options.RequiredApiKey = "sk-one";
        rig.Upstreams[0].Options.FailNextRequests = 1;
        using var client = rig.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);

        var body = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        JsonDocument.Parse(body).RootElement.GetProperty("model").GetString().ShouldBe("mock-gpt-large");
        rig.Upstreams[0].Stats.LastRequestHeaders["Authorization"].ShouldBe("Bearer sk-zero");
        rig.Upstreams[1].Stats.LastRequestHeaders["Authorization"].ShouldBe("Bearer sk-one");
        rig.Upstreams[1].Stats.LastRequestHeaders["Content-Length"].ShouldNotBe("0");
    }

    [Fact]
    public async Task EachAttempt_IsItsOwnClientSpan()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:traced:Strategy"] = "OrderedFallback",
        };
        DeploymentRig.AddDeployment(settings, "traced", 0, "up0");
        DeploymentRig.AddDeployment(settings, "traced", 1, "up1");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.FailNextRequests = 1;
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "LlmGateway",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("llm_gateway.model") as string == "traced")
                {
                    lock (spans)
                    {
                        spans.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var client = rig.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("traced")), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        lock (spans)
        {
            spans.Count.ShouldBe(2);
            spans.ShouldAllBe(s => s.Kind == ActivityKind.Client && s.DisplayName == "chat mock-gpt");
            spans[0].GetTagItem("llm_gateway.deployment").ShouldBe("up0/mock-gpt");
            spans[0].GetTagItem("http.response.status_code").ShouldBe(503);
            spans[0].Status.ShouldBe(ActivityStatusCode.Error);
            spans[1].GetTagItem("llm_gateway.deployment").ShouldBe("up1/mock-gpt");
            spans[1].GetTagItem("llm_gateway.attempt").ShouldBe(2);
        }
    }

    [Fact]
    public async Task LowestLatency_TriesEachDeploymentOnce_ThenPrefersTheFasterOne()
    {
        var settings = new Dictionary<string, string?> { ["Gateway:Models:m:Strategy"] = "LowestLatency" };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        // Far slower than a loaded machine's worst hiccup at the fast one, so the averages cannot swap.
        rig.Upstreams[0].Options.TimeToFirstTokenMs = 1000;
        using var client = rig.CreateHttpClient();

        for (var i = 0; i < 10; i++)
        {
            await SendAsync(client);
        }

        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(1);
        rig.Upstreams[1].Stats.TotalRequests.ShouldBe(9);
    }

    [Fact]
    public async Task LeastInFlight_SendsAroundADeploymentThatIsBusy()
    {
        var settings = new Dictionary<string, string?> { ["Gateway:Models:m:Strategy"] = "LeastInFlight" };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.TimeToFirstTokenMs = 3000;
        using var client = rig.CreateHttpClient();

        // Both idle: the tie goes to the first deployment, which then holds the request for three seconds.
        var slow = SendAsync(client);
        var deadline = Stopwatch.StartNew();
        while (rig.Upstreams[0].Stats.TotalRequests == 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10, Cancel);
        }

        for (var i = 0; i < 3; i++)
        {
            (await SendAsync(client)).ShouldBe(("up1/mock-gpt", "1"));
        }

        (await slow).ShouldBe(("up0/mock-gpt", "1"));
        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(1);
    }

    [Fact]
    public async Task Hedging_AnswersFromASecondDeployment_WhenTheFirstIsSlow_AndCancelsTheFirst()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Strategy"] = "OrderedFallback",
            ["Gateway:Models:m:Hedging:Delay"] = "00:00:01",
        };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0", upstreamModel: "mock-gpt");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1", upstreamModel: "mock-gpt-large");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        var (slow, fast) = (rig.Upstreams[0], rig.Upstreams[1]);
        var chat = rig.CreateOpenAIClient().GetChatClient("m");

        // Warm the path up first: a cold first request on a loaded machine may itself be slow enough to hedge.
        await chat.CompleteChatAsync([new UserChatMessage("Warm up")], cancellationToken: Cancel);
        slow.Stats.Reset();
        fast.Stats.Reset();

        // A prompt answer needs no hedge.
        var prompt = await chat.CompleteChatAsync([new UserChatMessage("Hello")], cancellationToken: Cancel);
        Header(prompt.GetRawResponse(), "x-gateway-deployment").ShouldBe("up0/mock-gpt");
        fast.Stats.TotalRequests.ShouldBe(0);

        slow.Options.TimeToFirstTokenMs = 10_000;
        var clock = Stopwatch.StartNew();
        var hedged = await chat.CompleteChatAsync([new UserChatMessage("Hello")], cancellationToken: Cancel);

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(8));
        hedged.Value.Model.ShouldBe("mock-gpt-large");
        hedged.Value.Content[0].Text.ShouldStartWith("Mock answer to:");
        Header(hedged.GetRawResponse(), "x-gateway-deployment").ShouldBe("up1/mock-gpt-large");
        Header(hedged.GetRawResponse(), "x-gateway-attempts").ShouldBe("2");
        fast.Stats.TotalRequests.ShouldBe(1);
        fast.Stats.LastRequestHeaders.Values.ShouldNotContain(v => v.Contains(TestSettings.VirtualKey, StringComparison.Ordinal));
        var deadline = Stopwatch.StartNew();
        while (slow.Stats.CancelledRequests == 0 && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20, Cancel);
        }

        slow.Stats.CancelledRequests.ShouldBe(1);
    }

    [Fact]
    public async Task Hedging_LeavesStreamsAlone()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Models:m:Strategy"] = "OrderedFallback",
            ["Gateway:Models:m:Hedging:Delay"] = "00:00:00.100",
        };
        DeploymentRig.AddDeployment(settings, "m", 0, "up0");
        DeploymentRig.AddDeployment(settings, "m", 1, "up1");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.TimeToFirstTokenMs = 600;
        using var client = rig.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m", stream: true)), Cancel);

        (await response.Content.ReadAsStringAsync(Cancel)).ShouldEndWith("data: [DONE]\n\n");
        response.Headers.GetValues("x-gateway-deployment").ShouldBe(["up0/mock-gpt"]);
        rig.Upstreams[1].Stats.TotalRequests.ShouldBe(0);
    }

    private static async Task<(string Deployment, string Attempts)> SendAsync(HttpClient client)
    {
        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("m")), Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return (response.Headers.GetValues("x-gateway-deployment").Single(), response.Headers.GetValues("x-gateway-attempts").Single());
    }

    private static string? Header(System.ClientModel.Primitives.PipelineResponse response, string name) =>
        response.Headers.TryGetValue(name, out var value) ? value : null;
}
