using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using LlmGateway.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LlmGateway.Tests.Functional;

/// <summary>
/// One gateway, one mock upstream that speaks OpenAI, Anthropic and Azure addressing, and the official SDKs:
/// an OpenAI client reaching an Anthropic upstream, Anthropic clients reaching both kinds, and Azure deployments.
/// </summary>
public sealed class ProviderTranslationFixture : IAsyncLifetime
{
    public const string AdminKey = "sk-gw-admin-test-0009";

    public MockProviderServer Upstream { get; private set; } = null!;

    public GatewayServer Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Upstream = await MockProviderServer.StartAsync(new MockProviderOptions { CompletionTokens = 12, RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = TestSettings.Standard(Upstream.BaseAddress);
        settings["Gateway:Providers:claude:Type"] = "Anthropic";
        settings["Gateway:Providers:claude:BaseUrl"] = new Uri(Upstream.BaseAddress, "v1").ToString();
        settings["Gateway:Providers:claude:ApiKeyEnvironmentVariable"] = "TEST_UPSTREAM_API_KEY";
        settings["Gateway:Providers:azure:Type"] = "AzureOpenAI";
        settings["Gateway:Providers:azure:BaseUrl"] = Upstream.BaseAddress.ToString();
        settings["Gateway:Providers:azure:ApiKeyEnvironmentVariable"] = "TEST_UPSTREAM_API_KEY";
        settings["Gateway:Models:claude-test:Provider"] = "claude";
        settings["Gateway:Models:claude-test:UpstreamModel"] = "claude-mock";
        // Failure tests get their own deployment, so its circuit breaker does not take claude-test out of rotation.
        settings["Gateway:Models:claude-errors:Provider"] = "claude";
        settings["Gateway:Models:claude-errors:UpstreamModel"] = "claude-mock";
        settings["Gateway:Models:azure-gpt:Provider"] = "azure";
        settings["Gateway:Models:azure-gpt:UpstreamModel"] = "gpt-4o-prod";
        settings["Gateway:Admin:KeyHash"] = VirtualKeyHash.Compute(AdminKey).ToString();
        settings["Gateway:Metering:Prices:claude-test:Input"] = "3";
        settings["Gateway:Metering:Prices:claude-test:Output"] = "15";
        settings["Gateway:Metering:Prices:gpt-test:Input"] = "2.5";
        settings["Gateway:Metering:Prices:gpt-test:Output"] = "10";
        Gateway = await GatewayServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

public sealed class ProviderTranslationTests(ProviderTranslationFixture fixture) : IClassFixture<ProviderTranslationFixture>
{
    private static readonly ChatMessage[] Question = [new SystemChatMessage("Be brief."), new UserChatMessage("What is the capital of France?")];

    private static readonly ChatTool CapitalTool = ChatTool.CreateFunctionTool(
        "get_capital", "Looks a capital up.", BinaryData.FromString("""{"type":"object","properties":{"country":{"type":"string"}}}"""));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ChatClient OpenAiChat(string model, params (string Name, string Value)[] headers)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        foreach (var (name, value) in headers)
        {
            http.DefaultRequestHeaders.Add(name, value);
        }

        var options = new OpenAIClientOptions { Endpoint = fixture.Gateway.OpenAIEndpoint, Transport = new HttpClientPipelineTransport(http), RetryPolicy = new ClientRetryPolicy(0) };
        return new OpenAIClient(new ApiKeyCredential(TestSettings.VirtualKey), options).GetChatClient(model);
    }

    private AnthropicClient AnthropicSdk(string? toolCall = null)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        if (toolCall is not null)
        {
            http.DefaultRequestHeaders.Add(MockProviderHeaders.ToolCall, toolCall);
        }

        return new AnthropicClient { ApiKey = TestSettings.VirtualKey, BaseUrl = fixture.Gateway.BaseAddress.ToString().TrimEnd('/'), HttpClient = http, MaxRetries = 0 };
    }

    [Fact]
    public async Task OpenAiSdk_ToAnAnthropicUpstream_GetsTheSameCompletionAsFromAnOpenAiUpstream()
    {
        var viaAnthropic = (await OpenAiChat("claude-test").CompleteChatAsync(Question, cancellationToken: Cancel)).Value;
        var viaOpenAi = (await OpenAiChat("gpt-test").CompleteChatAsync(Question, cancellationToken: Cancel)).Value;

        viaAnthropic.Content.ShouldHaveSingleItem().Text.ShouldBe(viaOpenAi.Content[0].Text);
        viaAnthropic.Role.ShouldBe(ChatMessageRole.Assistant);
        viaAnthropic.FinishReason.ShouldBe(ChatFinishReason.Stop);
        viaAnthropic.Usage.InputTokenCount.ShouldBe(viaOpenAi.Usage.InputTokenCount);
        viaAnthropic.Usage.OutputTokenCount.ShouldBe(viaOpenAi.Usage.OutputTokenCount);
        viaAnthropic.Id.ShouldStartWith("msg_mock_");
        viaAnthropic.Model.ShouldBe("claude-mock");

        var upstreamHeaders = fixture.Upstream.Stats.LastRequestHeaders;
        fixture.Upstream.Stats.LastRequestPath.ShouldBe("/v1/chat/completions", "the OpenAI-upstream call came last");
        upstreamHeaders.ContainsKey("authorization").ShouldBeTrue();
    }

    [Fact]
    public async Task OpenAiSdk_ToAnAnthropicUpstream_SendsAnthropicsHeadersAndPath_AndNoClientKey()
    {
        await OpenAiChat("claude-test").CompleteChatAsync(Question, new ChatCompletionOptions { MaxOutputTokenCount = 5 }, Cancel);

        fixture.Upstream.Stats.LastRequestPath.ShouldBe("/v1/messages");
        var headers = fixture.Upstream.Stats.LastRequestHeaders;
        headers["x-api-key"].ShouldBe(TestSettings.UpstreamApiKey);
        headers["anthropic-version"].ShouldBe("2023-06-01");
        headers.ContainsKey("authorization").ShouldBeFalse();
        headers.Values.ShouldNotContain(v => v.Contains(TestSettings.VirtualKey));
    }

    [Fact]
    public async Task OpenAiSdk_ToAnAnthropicUpstream_TruncatedAnswersFinishWithLength()
    {
        var completion = (await OpenAiChat("claude-test").CompleteChatAsync(Question, new ChatCompletionOptions { MaxOutputTokenCount = 5 }, Cancel)).Value;

        completion.FinishReason.ShouldBe(ChatFinishReason.Length);
        completion.Usage.OutputTokenCount.ShouldBe(5);
    }

    [Fact]
    public async Task OpenAiSdk_StreamingFromAnAnthropicUpstream_MatchesAnOpenAiUpstream()
    {
        var viaAnthropic = await CollectAsync(OpenAiChat("claude-test"), Question);
        var viaOpenAi = await CollectAsync(OpenAiChat("gpt-test"), Question);

        viaAnthropic.Text.ShouldBe(viaOpenAi.Text);
        viaAnthropic.Updates.ShouldBeGreaterThan(5);
        viaAnthropic.FinishReason.ShouldBe(ChatFinishReason.Stop);
        viaAnthropic.InputTokens.ShouldBe(viaOpenAi.InputTokens);
        viaAnthropic.OutputTokens.ShouldBe(viaOpenAi.OutputTokens);
    }

    [Fact]
    public async Task OpenAiSdk_ToolCallingThroughAnAnthropicUpstream_RoundTrips()
    {
        var chat = OpenAiChat("claude-test", (MockProviderHeaders.ToolCall, "get_capital"));
        var options = new ChatCompletionOptions { Tools = { CapitalTool } };
        List<ChatMessage> conversation = [.. Question];

        var first = (await chat.CompleteChatAsync(conversation, options, Cancel)).Value;

        first.FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
        var call = first.ToolCalls.ShouldHaveSingleItem();
        call.FunctionName.ShouldBe("get_capital");
        call.Id.ShouldStartWith("toolu_mock_");
        call.FunctionArguments.ToString().ShouldBe("{}");

        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(call.Id, "Paris"));
        var second = (await chat.CompleteChatAsync(conversation, options, Cancel)).Value;

        second.FinishReason.ShouldBe(ChatFinishReason.Stop);
        second.Content.ShouldHaveSingleItem().Text.ShouldStartWith("Mock answer to: ");
    }

    [Fact]
    public async Task OpenAiSdk_StreamedToolCallFromAnAnthropicUpstream_ArrivesAsToolCallUpdates()
    {
        var chat = OpenAiChat("claude-test", (MockProviderHeaders.ToolCall, "get_capital"));
        string? name = null;
        string? id = null;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(Question, new ChatCompletionOptions { Tools = { CapitalTool } }, Cancel))
        {
            foreach (var toolUpdate in update.ToolCallUpdates)
            {
                toolUpdate.Index.ShouldBe(0);
                name ??= toolUpdate.FunctionName;
                id ??= toolUpdate.ToolCallId;
                arguments.Append(toolUpdate.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        name.ShouldBe("get_capital");
        id.ShouldNotBeNull().ShouldStartWith("toolu_mock_");
        arguments.ToString().ShouldBe("{}");
        finish.ShouldBe(ChatFinishReason.ToolCalls);
    }

    [Theory]
    [InlineData(529, 503)]
    [InlineData(429, 429)]
    [InlineData(400, 400)]
    public async Task AnthropicErrors_ReachOpenAiClients_InOpenAiShape(int upstreamStatus, int expectedStatus)
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = HttpAssertions.Json(HttpAssertions.ChatBody("claude-errors")) };
        request.Headers.Add(MockProviderHeaders.ErrorStatus, upstreamStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var response = await client.SendAsync(request, Cancel);

        var error = await response.ShouldBeOpenAiErrorAsync((HttpStatusCode)expectedStatus, code: null);
        error.GetProperty("message").GetString()!.ShouldContain("Mock provider error");
    }

    [Fact]
    public async Task AnAnthropicStreamThatDiesMidway_NeverLooksComplete_AndTheGatewayKeepsServing()
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = HttpAssertions.Json(HttpAssertions.ChatBody("claude-errors", stream: true)) };
        request.Headers.Add(MockProviderHeaders.FailAfterTokens, "3");

        string received;
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var body = new StringBuilder();
            try
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
                while (await reader.ReadLineAsync(Cancel) is { } line)
                {
                    body.Append(line).Append('\n');
                }
            }
            catch (HttpRequestException)
            {
                // The connection may be cut instead of ending with an error event; both tell the client it failed.
            }
            catch (IOException)
            {
            }

            received = body.ToString();
        }

        received.ShouldContain("\"content\":\"Mock \"", customMessage: "the first tokens were translated and streamed before the failure");
        received.ShouldNotContain("[DONE]");
        received.ShouldNotContain("\"finish_reason\":\"stop\"");

        var next = (await OpenAiChat("claude-test").CompleteChatAsync(Question, cancellationToken: Cancel)).Value;
        next.FinishReason.ShouldBe(ChatFinishReason.Stop);
    }

    [Fact]
    public async Task AnthropicUpstream_RejectsOperationsItCannotServe()
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);

        using var response = await client.PostAsync("v1/embeddings", HttpAssertions.Json("""{"model":"claude-test","input":"hello"}"""), Cancel);

        await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.BadRequest, "unsupported_operation");
    }

    [Theory]
    [InlineData("claude-test")]
    [InlineData("gpt-test")]
    public async Task AnthropicSdk_ThroughMessages_GetsAMessage_FromEitherKindOfUpstream(string model)
    {
        var message = await AnthropicSdk().Messages.Create(AnthropicQuestion(model), Cancel);

        message.Content.ShouldHaveSingleItem().TryPickText(out var text).ShouldBeTrue();
        text!.Text.ShouldStartWith("Mock answer to: What is the capital of France?");
        message.StopReason!.ToString().ShouldContain("end_turn");
        message.Usage.InputTokens.ShouldBe(14, "system and user message: 3 each plus 2 and 6 words");
        message.Usage.OutputTokens.ShouldBe(12);
    }

    [Theory]
    [InlineData("claude-test")]
    [InlineData("gpt-test")]
    public async Task AnthropicSdk_StreamingThroughMessages_FromEitherKindOfUpstream(string model)
    {
        var text = new StringBuilder();
        long outputTokens = 0;
        var stopped = false;
        await foreach (var streamEvent in AnthropicSdk().Messages.CreateStreaming(AnthropicQuestion(model), Cancel))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta!.Text);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                outputTokens = messageDelta!.Usage.OutputTokens;
            }
            else if (streamEvent.TryPickStop(out _))
            {
                stopped = true;
            }
        }

        text.ToString().ShouldStartWith("Mock answer to: What is the capital of France?");
        outputTokens.ShouldBe(12);
        stopped.ShouldBeTrue();
    }

    [Theory]
    [InlineData("claude-test")]
    [InlineData("gpt-test")]
    public async Task AnthropicSdk_ToolUseThroughMessages_FromEitherKindOfUpstream(string model)
    {
        var parameters = AnthropicQuestion(model) with
        {
            Tools = [new Tool { Name = "get_capital", InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement>() } }],
        };

        var message = await AnthropicSdk(toolCall: "get_capital").Messages.Create(parameters, Cancel);

        message.Content.ShouldHaveSingleItem().TryPickToolUse(out var toolUse).ShouldBeTrue();
        toolUse!.Name.ShouldBe("get_capital");
        toolUse.Input.ShouldBeEmpty();
        message.StopReason!.ToString().ShouldContain("tool_use");
    }

    [Fact]
    public async Task Messages_GatewayErrors_AreInAnthropicsShape()
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);

        using var response = await client.PostAsync("v1/messages", HttpAssertions.Json("""{"model":"no-such-model","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"""), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        body.RootElement.GetProperty("type").GetString().ShouldBe("error");
        body.RootElement.GetProperty("error").GetProperty("type").GetString().ShouldBe("not_found_error");
    }

    [Fact]
    public async Task AzureOpenAi_ModelNamesBecomeDeployments_WithApiVersionAndApiKey()
    {
        var completion = (await OpenAiChat("azure-gpt").CompleteChatAsync(Question, cancellationToken: Cancel)).Value;

        completion.Content[0].Text.ShouldStartWith("Mock answer to: ");
        fixture.Upstream.Stats.LastRequestPath.ShouldBe("/openai/deployments/gpt-4o-prod/chat/completions");
        var headers = fixture.Upstream.Stats.LastRequestHeaders;
        headers["api-key"].ShouldBe(TestSettings.UpstreamApiKey);
        headers.ContainsKey("authorization").ShouldBeFalse();
    }

    [Fact]
    public async Task Metering_SeesTheSameUsage_ForEveryClientAndUpstreamShape_StreamedOrNot()
    {
        // 14 prompt tokens (system and user message: 3 each plus 2 and 6 words) and 12 completion tokens everywhere.
        await OpenAiChat("claude-test").CompleteChatAsync(Question, new ChatCompletionOptions { EndUserId = "openai-to-claude" }, Cancel);
        await foreach (var _ in OpenAiChat("claude-test").CompleteChatStreamingAsync(Question, new ChatCompletionOptions { EndUserId = "openai-to-claude-streamed" }, Cancel))
        {
        }

        foreach (var model in (string[])["claude-test", "gpt-test"])
        {
            var parameters = AnthropicQuestion(model) with { Metadata = new Metadata { UserID = $"messages-{model}" } };
            await AnthropicSdk().Messages.Create(parameters, Cancel);
            var streamed = parameters with { Metadata = new Metadata { UserID = $"messages-{model}-streamed" } };
            await foreach (var _ in AnthropicSdk().Messages.CreateStreaming(streamed, Cancel))
            {
            }
        }

        foreach (var user in (string[])["openai-to-claude", "openai-to-claude-streamed", "messages-claude-test", "messages-claude-test-streamed", "messages-gpt-test", "messages-gpt-test-streamed"])
        {
            var spend = await SpendOfUserAsync(user);
            spend.GetProperty("prompt_tokens").GetInt64().ShouldBe(14, user);
            spend.GetProperty("completion_tokens").GetInt64().ShouldBe(12, user);
            spend.GetProperty("estimated_requests").GetInt64().ShouldBe(0, user);
            spend.GetProperty("unpriced_requests").GetInt64().ShouldBe(0, user);
        }
    }

    private async Task<JsonElement> SpendOfUserAsync(string user)
    {
        using var admin = fixture.Gateway.CreateHttpClient(ProviderTranslationFixture.AdminKey);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var json = await admin.GetStringAsync(new Uri("admin/spend?group_by=user", UriKind.Relative), Cancel);
            foreach (var row in JsonDocument.Parse(json).RootElement.GetProperty("data").EnumerateArray())
            {
                if (row.GetProperty("value").GetString() == user)
                {
                    return row.Clone();
                }
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"no spend recorded for user '{user}' within 20 s");
            await Task.Delay(50, Cancel);
        }
    }

    private static MessageCreateParams AnthropicQuestion(string model) => new()
    {
        Model = model,
        MaxTokens = 100,
        System = "Be brief.",
        Messages = [new UserMessageParam("What is the capital of France?")],
    };

    private static async Task<(string Text, int Updates, ChatFinishReason? FinishReason, int InputTokens, int OutputTokens)> CollectAsync(ChatClient chat, ChatMessage[] messages)
    {
        var text = new StringBuilder();
        var updates = 0;
        ChatFinishReason? finish = null;
        var input = 0;
        var output = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, cancellationToken: Cancel))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            if (update.Usage is { } usage)
            {
                input = usage.InputTokenCount;
                output = usage.OutputTokenCount;
            }
        }

        return (text.ToString(), updates, finish, input, output);
    }
}
