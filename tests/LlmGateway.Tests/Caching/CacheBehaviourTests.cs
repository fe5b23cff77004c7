using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmGateway.Tests.Infrastructure;
using OpenAI.Chat;

namespace LlmGateway.Tests.Caching;

/// <summary>
/// What the cache does for clients, run once with the in-process stores (the embedded default) and once with a real
/// Redis 8 (replicas). Every test asks its own questions, so tests never see each other's answers; whether the
/// upstream was reached is read from the mock's call counters.
/// </summary>
public abstract class CacheBehaviourTests : IAsyncLifetime
{
    private CacheRig? _rig;

    protected CacheRig Rig => _rig ?? throw new InvalidOperationException("The rig has not started.");

    protected abstract bool WithRedis { get; }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _rig = await CacheRig.StartAsync(WithRedis, settings =>
    {
        settings["Gateway:Cache:Routes:mock-deterministic:RequireZeroTemperature"] = "true";
        settings["Gateway:Models:mock-deterministic:Provider"] = "mock";
        settings["Gateway:Models:mock-deterministic:UpstreamModel"] = "mock-gpt";
        settings["Gateway:Providers:claude:Type"] = "Anthropic";
        settings["Gateway:Providers:claude:BaseUrl"] = settings["Gateway:Providers:mock:BaseUrl"];
        settings["Gateway:Providers:claude:ApiKeyEnvironmentVariable"] = "TEST_UPSTREAM_API_KEY";
        settings["Gateway:Models:claude-test:Provider"] = "claude";
        settings["Gateway:Models:claude-test:UpstreamModel"] = "claude-mock";
    });

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_rig is not null)
        {
            await _rig.DisposeAsync();
        }
    }

    [Fact]
    public async Task RepeatedRequest_IsServedFromCache_WithoutReachingTheUpstream_EvenWithOtherKeyOrderAndWhitespace()
    {
        var question = Unique("What is the boiling point of water at sea level?");
        var (first, firstBody) = await Rig.ChatAsync(Chat(question), headers: ("x-mock-answer", "One hundred degrees Celsius."));
        await Rig.CacheWritesSettledAsync();
        var calls = Rig.UpstreamCalls();

        // Same request, keys reordered and spaced out; the mock would answer differently if it were asked.
        var reordered = $$"""
            {
              "messages" : [ { "content" : {{JsonSerializer.Serialize(question)}}, "role" : "user" } ],
              "stream" : false,
              "model":"gpt-test"
            }
            """;
        var (second, secondBody) = await Rig.ChatAsync(reordered, headers: ("x-mock-answer", "Something else entirely."));

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        CacheRig.CacheResult(first).ShouldBe("miss");
        second.StatusCode.ShouldBe(HttpStatusCode.OK, secondBody);
        CacheRig.CacheResult(second).ShouldBe("hit");
        Rig.UpstreamCalls().ShouldBe(calls);
        secondBody.ShouldBe(firstBody);
        AnswerOf(secondBody).ShouldBe("One hundred degrees Celsius.");
        CacheRig.Header(second, "Age").ShouldNotBe("(absent)");
        CacheRig.ContentType(second)!.MediaType.ShouldBe("application/json");
    }

    [Fact]
    public async Task Hit_CostsNothing_AndReportsWhatItSaved()
    {
        var question = Unique("How many legs does a spider have?");
        var (first, _) = await Rig.ChatAsync(Chat(question));
        await Rig.CacheWritesSettledAsync();
        var (second, _) = await Rig.ChatAsync(Chat(question));

        var paid = decimal.Parse(CacheRig.Header(first, "x-gateway-cost-usd"), CultureInfo.InvariantCulture);
        paid.ShouldBeGreaterThan(0m);
        CacheRig.CacheResult(second).ShouldBe("hit");
        CacheRig.Header(second, "x-gateway-cost-usd").ShouldBe("0");
        decimal.Parse(CacheRig.Header(second, "x-gateway-cache-saved-usd"), CultureInfo.InvariantCulture).ShouldBe(paid);
        CacheRig.Header(second, "x-gateway-prompt-tokens").ShouldBe(CacheRig.Header(first, "x-gateway-prompt-tokens"));

        // The spend API keeps both: what was paid (the miss) and what the cache saved (the hit).
        var spend = await Rig.Gateway.SpendRowAsync(CacheRig.AdminKey, "key", "alice", requests: 2);
        spend.GetProperty("cost_usd").GetDecimal().ShouldBe(paid);
        spend.GetProperty("cache_saved_usd").GetDecimal().ShouldBe(paid);
    }

    [Fact]
    public async Task Paraphrase_OfTheFinalQuestion_IsASemanticHit()
    {
        var tag = Guid.NewGuid().ToString("N");
        var (first, firstBody) = await Rig.ChatAsync(Chat($"What is the capital city of France? ref {tag}"), headers: ("x-mock-answer", "Paris."));
        await Rig.CacheWritesSettledAsync();
        var calls = Rig.UpstreamCalls();

        var (second, secondBody) = await Rig.ChatAsync(Chat($"what is the capital of France, ref {tag}"), headers: ("x-mock-answer", "Not from the cache."));

        CacheRig.CacheResult(first).ShouldBe("miss");
        CacheRig.CacheResult(second).ShouldBe("semantic-hit", secondBody);
        Rig.UpstreamCalls().ShouldBe(calls);
        AnswerOf(secondBody).ShouldBe("Paris.");
        secondBody.ShouldBe(firstBody);
        var similarity = double.Parse(CacheRig.Header(second, "x-gateway-cache-similarity"), CultureInfo.InvariantCulture);
        similarity.ShouldBeInRange(CacheRig.Threshold, 1.0);
    }

    [Fact]
    public async Task UnrelatedQuestion_InTheSameConversation_IsAMiss()
    {
        var tag = Guid.NewGuid().ToString("N");
        await Rig.ChatAsync(Chat($"What is the capital city of France? {tag}"));
        await Rig.CacheWritesSettledAsync();
        var calls = Rig.UpstreamCalls();

        var (other, _) = await Rig.ChatAsync(Chat($"Recommend a good book about sailing {tag}"));

        CacheRig.CacheResult(other).ShouldBe("miss");
        Rig.UpstreamCalls().ShouldBe(calls + 1);
    }

    [Fact]
    public async Task SameQuestion_UnderAnotherTenant_SystemPrompt_Model_OrTools_IsAMiss()
    {
        var question = Unique("Which planet is known as the red planet?");
        await Rig.ChatAsync(Chat(question, system: "Be brief."));
        await Rig.CacheWritesSettledAsync();

        // bob is in team-b; alice (the seed) is in team-a.
        await ExpectMissAsync(Chat(question, system: "Be brief."), TestSettings.OtherVirtualKey);
        await ExpectMissAsync(Chat(question, system: "Answer like a pirate."));
        await ExpectMissAsync(Chat(question, system: "Be brief.", model: "mock-gpt"));
        await ExpectMissAsync(Chat(question, system: "Be brief.", withTool: true));

        // And the seed itself is still there for its own tenant.
        var (again, _) = await Rig.ChatAsync(Chat(question, system: "Be brief."));
        CacheRig.CacheResult(again).ShouldBe("hit");
    }

    [Fact]
    public async Task StreamedMiss_IsCaptured_AndItsHitIsReplayedToTheOfficialSdkStreamingClient()
    {
        var question = Unique("Name three primary colours.");
        var chat = Rig.Gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetChatClient("gpt-test");

        var first = await CollectAsync(chat.CompleteChatStreamingAsync([new UserChatMessage(question)], cancellationToken: Cancel));
        await Rig.CacheWritesSettledAsync();
        var calls = Rig.UpstreamCalls();
        var second = await CollectAsync(chat.CompleteChatStreamingAsync([new UserChatMessage(question)], cancellationToken: Cancel));

        Rig.UpstreamCalls().ShouldBe(calls);
        second.Text.ShouldBe(first.Text);
        second.Text.ShouldNotBeNullOrWhiteSpace();
        second.Updates.ShouldBe(first.Updates);
        second.FinishReason.ShouldBe(ChatFinishReason.Stop);
        second.OutputTokens.ShouldBe(first.OutputTokens);
        second.OutputTokens.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task StreamedHit_IsAWellFormedEventStream_WithoutTheUsageChunk_WhenTheClientDidNotAskForUsage()
    {
        var question = Unique("Spell the word cache.");
        var (_, firstBody) = await Rig.ChatAsync(Chat(question, stream: true));
        await Rig.CacheWritesSettledAsync();

        var (hit, body) = await Rig.ChatAsync(Chat(question, stream: true));

        CacheRig.CacheResult(hit).ShouldBe("hit");
        CacheRig.ContentType(hit)!.MediaType.ShouldBe("text/event-stream");
        hit.Headers.TransferEncodingChunked.ShouldBe(true);
        body.ShouldBe(firstBody);
        body.ShouldEndWith("data: [DONE]\n\n");
        body.ShouldNotContain("\"usage\":{");
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        events.Length.ShouldBeGreaterThan(3);
        events.ShouldAllBe(e => e.StartsWith("data: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StreamThatFailedMidway_IsNotStored()
    {
        var question = Unique("Count slowly to ten.");
        var (broken, brokenBody) = await Rig.ChatAsync(Chat(question, stream: true), headers: ("x-mock-fail-after-tokens", "2"));
        await Rig.CacheWritesSettledAsync();
        var calls = Rig.UpstreamCalls();

        var (retry, _) = await Rig.ChatAsync(Chat(question, stream: true));

        brokenBody.ShouldNotContain("[DONE]");
        CacheRig.CacheResult(broken).ShouldBe("miss");
        CacheRig.CacheResult(retry).ShouldBe("miss");
        Rig.UpstreamCalls().ShouldBe(calls + 1);
    }

    [Fact]
    public async Task UpstreamError_IsNotStored()
    {
        var question = Unique("Tell me a secret.");
        var (failed, _) = await Rig.ChatAsync(Chat(question), headers: ("x-mock-error-status", "500"));
        await Rig.CacheWritesSettledAsync();

        var (retry, _) = await Rig.ChatAsync(Chat(question));

        failed.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        CacheRig.CacheResult(retry).ShouldBe("miss");
        retry.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ClientOptOuts_NoStore_NoCache_AndTheGatewayHeader_AreHonoured()
    {
        var question = Unique("What colour is the sky?");

        var (noStore, _) = await Rig.ChatAsync(Chat(question), headers: ("Cache-Control", "no-store"));
        await Rig.CacheWritesSettledAsync();
        var (afterNoStore, _) = await Rig.ChatAsync(Chat(question), headers: ("x-mock-answer", "Blue."));
        await Rig.CacheWritesSettledAsync();
        var (bypass, _) = await Rig.ChatAsync(Chat(question), headers: ("x-gateway-cache", "bypass"));
        var (refreshed, refreshedBody) = await Rig.ChatAsync(Chat(question), headers: [("Cache-Control", "no-cache"), ("x-mock-answer", "Azure.")]);
        await Rig.CacheWritesSettledAsync();
        var (hit, hitBody) = await Rig.ChatAsync(Chat(question));

        CacheRig.CacheResult(noStore).ShouldBe("bypass");
        CacheRig.CacheResult(afterNoStore).ShouldBe("miss"); // no-store left nothing behind
        CacheRig.CacheResult(bypass).ShouldBe("bypass");
        CacheRig.CacheResult(refreshed).ShouldBe("miss");     // no-cache skips the lookup, then stores the fresh answer
        AnswerOf(refreshedBody).ShouldBe("Azure.");
        CacheRig.CacheResult(hit).ShouldBe("hit");
        AnswerOf(hitBody).ShouldBe("Azure.");
    }

    [Fact]
    public async Task RouteRestrictedToZeroTemperature_CachesOnlyDeterministicRequests()
    {
        var question = Unique("Give me a random number.");

        var (warm1, _) = await Rig.ChatAsync(Chat(question, model: "mock-deterministic", temperature: 0.7));
        await Rig.CacheWritesSettledAsync();
        var (warm2, _) = await Rig.ChatAsync(Chat(question, model: "mock-deterministic", temperature: 0.7));
        var (cold1, _) = await Rig.ChatAsync(Chat(question, model: "mock-deterministic", temperature: 0));
        await Rig.CacheWritesSettledAsync();
        var (cold2, _) = await Rig.ChatAsync(Chat(question, model: "mock-deterministic", temperature: 0));

        CacheRig.CacheResult(warm1).ShouldBe("bypass");
        CacheRig.CacheResult(warm2).ShouldBe("bypass");
        CacheRig.CacheResult(cold1).ShouldBe("miss");
        CacheRig.CacheResult(cold2).ShouldBe("hit");
    }

    [Fact]
    public async Task Embeddings_AreCachedExactly()
    {
        var input = Unique("The quick brown fox");
        using var client = Rig.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        var body = JsonSerializer.Serialize(new { model = "mock-embed", input });

        using var first = await client.PostAsync(new Uri("v1/embeddings", UriKind.Relative), HttpAssertions.Json(body), Cancel);
        await Rig.CacheWritesSettledAsync();
        var calls = Rig.UpstreamCalls(CacheRig.EmbeddingsPath);
        using var second = await client.PostAsync(new Uri("v1/embeddings", UriKind.Relative), HttpAssertions.Json(body), Cancel);

        CacheRig.CacheResult(first).ShouldBe("miss");
        CacheRig.CacheResult(second).ShouldBe("hit");
        Rig.UpstreamCalls(CacheRig.EmbeddingsPath).ShouldBe(calls);
        (await second.Content.ReadAsStringAsync(Cancel)).ShouldBe(await first.Content.ReadAsStringAsync(Cancel));
    }

    [Fact]
    public async Task AnthropicMessages_WholeAndStreamed_AreCachedInTheirOwnShape()
    {
        var question = JsonSerializer.Serialize(Unique("Name a prime number."));
        var whole = $$"""{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":{{question}}}]}""";
        var streamed = $$"""{"model":"claude-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":{{question}}}]}""";

        var (firstWhole, firstWholeBody) = await MessagesAsync(whole);
        var (firstStream, firstStreamBody) = await MessagesAsync(streamed);
        await Rig.CacheWritesSettledAsync();
        var calls = Rig.UpstreamCalls("/v1/messages");
        var (hitWhole, hitWholeBody) = await MessagesAsync(whole);
        var (hitStream, hitStreamBody) = await MessagesAsync(streamed);

        CacheRig.CacheResult(firstWhole).ShouldBe("miss");
        CacheRig.CacheResult(firstStream).ShouldBe("miss");
        CacheRig.CacheResult(hitWhole).ShouldBe("hit");
        CacheRig.CacheResult(hitStream).ShouldBe("hit");
        Rig.UpstreamCalls("/v1/messages").ShouldBe(calls);
        hitWholeBody.ShouldBe(firstWholeBody);
        JsonDocument.Parse(hitWholeBody).RootElement.GetProperty("type").GetString().ShouldBe("message");
        hitStreamBody.ShouldBe(firstStreamBody);
        hitStreamBody.ShouldContain("event: message_stop");
    }

    private async Task<(HttpResponseMessage Response, string Body)> MessagesAsync(string body)
    {
        using var client = Rig.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("v1/messages", UriKind.Relative)) { Content = HttpAssertions.Json(body) };
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await client.SendAsync(request, Cancel);
        return (response, await response.Content.ReadAsStringAsync(Cancel));
    }

    private async Task ExpectMissAsync(string body, string virtualKey = TestSettings.VirtualKey)
    {
        var calls = Rig.UpstreamCalls();
        var (response, text) = await Rig.ChatAsync(body, virtualKey);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        CacheRig.CacheResult(response).ShouldBe("miss", body);
        Rig.UpstreamCalls().ShouldBe(calls + 1);
    }

    protected static string Unique(string question) => $"{question} (case {Guid.NewGuid():N})";

    protected static string Chat(string question, string? system = null, string model = "gpt-test", bool stream = false, double? temperature = null, bool withTool = false)
    {
        var messages = new JsonArray();
        if (system is not null)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = question });
        var request = new JsonObject { ["model"] = model, ["messages"] = messages, ["stream"] = stream };
        if (temperature is { } value)
        {
            request["temperature"] = value;
        }

        if (withTool)
        {
            request["tools"] = JsonNode.Parse("""[{"type":"function","function":{"name":"lookup_planet","parameters":{"type":"object","properties":{"name":{"type":"string"}}}}}]""");
        }

        return request.ToJsonString();
    }

    protected static string AnswerOf(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()?.Trim() ?? "";

    private static async Task<StreamedAnswer> CollectAsync(AsyncCollectionResult<StreamingChatCompletionUpdate> updates)
    {
        var text = new StringBuilder();
        var deltas = new List<string>();
        ChatFinishReason? finish = null;
        var outputTokens = 0;
        await foreach (var update in updates)
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
                deltas.Add(part.Text);
            }

            finish ??= update.FinishReason;
            outputTokens = update.Usage?.OutputTokenCount ?? outputTokens;
        }

        return new StreamedAnswer(text.ToString(), deltas, finish, outputTokens);
    }

    private sealed record StreamedAnswer(string Text, List<string> Updates, ChatFinishReason? FinishReason, int OutputTokens);
}

public sealed class InMemoryCacheBehaviourTests : CacheBehaviourTests
{
    protected override bool WithRedis => false;
}

public sealed class RedisCacheBehaviourTests : CacheBehaviourTests
{
    protected override bool WithRedis => true;
}
