using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using LlmGateway.MockProvider;

namespace LlmGateway.Tests.Functional;

/// <summary>
/// The mock's Anthropic mode, checked with the official Anthropic .NET SDK: if the SDK accepts the mock's messages,
/// events and errors, gateway tests that use the mock as an Anthropic upstream test against Anthropic's shapes.
/// </summary>
public sealed class MockAnthropicModeTests : IAsyncLifetime
{
    private const string ApiKey = "sk-ant-mock-key";
    private MockProviderServer _mock = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _mock = await MockProviderServer.StartAsync(new MockProviderOptions { CompletionTokens = 8, RequiredApiKey = ApiKey }, TestContext.Current.CancellationToken);
        _http = new HttpClient();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _mock.DisposeAsync();
    }

    private AnthropicClient Client(string? toolCall = null, int? errorStatus = null)
    {
        var http = new HttpClient();
        if (toolCall is not null)
        {
            http.DefaultRequestHeaders.Add(MockProviderHeaders.ToolCall, toolCall);
        }

        if (errorStatus is { } status)
        {
            http.DefaultRequestHeaders.Add(MockProviderHeaders.ErrorStatus, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return new AnthropicClient { ApiKey = ApiKey, BaseUrl = _mock.BaseAddress.ToString().TrimEnd('/'), HttpClient = http, MaxRetries = 0 };
    }

    private static MessageCreateParams Question(bool withTool = false) => new()
    {
        Model = "claude-mock",
        MaxTokens = 100,
        System = "Be brief.",
        Messages = [new UserMessageParam("What is the capital of France?")],
        Tools = withTool ? [new Tool { Name = "get_capital", InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement>() } }] : null,
    };

    [Fact]
    public async Task Create_ReturnsATextMessage_WithUsage()
    {
        var message = await Client().Messages.Create(Question(), TestContext.Current.CancellationToken);

        message.ID.ShouldStartWith("msg_mock_");
        message.Content.ShouldHaveSingleItem().TryPickText(out var text).ShouldBeTrue();
        text!.Text.ShouldBe("Mock answer to: What is the capital of ", "8 tokens: the preamble and the question's first words");
        message.StopReason!.ToString().ShouldContain("end_turn");
        message.Usage.InputTokens.ShouldBe(3 + 2 + 3 + 6, "3 per message plus words, the system prompt counting as a message");
        message.Usage.OutputTokens.ShouldBe(8);
    }

    [Fact]
    public async Task CreateStreaming_DeliversTheDocumentedEvents_AndTheSameText()
    {
        var text = new StringBuilder();
        long outputTokens = 0;
        long inputTokens = 0;
        var sawStop = false;
        await foreach (var streamEvent in Client().Messages.CreateStreaming(Question(), TestContext.Current.CancellationToken))
        {
            if (streamEvent.TryPickStart(out var start))
            {
                inputTokens = start!.Message.Usage.InputTokens;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta!.Text);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                outputTokens = messageDelta!.Usage.OutputTokens;
            }
            else if (streamEvent.TryPickStop(out _))
            {
                sawStop = true;
            }
        }

        var whole = await Client().Messages.Create(Question(), TestContext.Current.CancellationToken);
        whole.Content[0].TryPickText(out var wholeText).ShouldBeTrue();
        text.ToString().ShouldBe(wholeText!.Text);
        outputTokens.ShouldBe(8);
        inputTokens.ShouldBe(whole.Usage.InputTokens);
        sawStop.ShouldBeTrue();
    }

    [Fact]
    public async Task ToolCallKnob_AnswersWithAToolUseBlock()
    {
        var message = await Client(toolCall: "get_capital").Messages.Create(Question(withTool: true), TestContext.Current.CancellationToken);

        message.Content.ShouldHaveSingleItem().TryPickToolUse(out var toolUse).ShouldBeTrue();
        toolUse!.Name.ShouldBe("get_capital");
        toolUse.ID.ShouldStartWith("toolu_mock_");
        toolUse.Input.ShouldBeEmpty();
        message.StopReason!.ToString().ShouldContain("tool_use");
    }

    [Fact]
    public async Task ForcedErrors_AreThrownByTheSdk_AsAnthropicErrors()
    {
        var error = await Should.ThrowAsync<AnthropicApiException>(() => Client(errorStatus: 429).Messages.Create(Question(), TestContext.Current.CancellationToken));

        error.ShouldBeOfType<AnthropicRateLimitException>();
        error.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Theory]
    [InlineData(null, "2023-06-01", 401, "authentication_error")]
    [InlineData("wrong", "2023-06-01", 401, "authentication_error")]
    [InlineData(ApiKey, null, 400, "invalid_request_error")]
    [InlineData("Bearer " + ApiKey, null, 400, "invalid_request_error")]
    public async Task RequiredApiKey_NeedsTheKeyAndAnAnthropicVersion(string? key, string? version, int status, string type)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_mock.BaseAddress, "v1/messages"))
        {
            Content = new StringContent("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(key.StartsWith("Bearer ", StringComparison.Ordinal) ? "Authorization" : "x-api-key", key);
        }

        if (version is not null)
        {
            request.Headers.Add("anthropic-version", version);
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);

        ((int)response.StatusCode).ShouldBe(status);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        body.RootElement.GetProperty("type").GetString().ShouldBe("error");
        body.RootElement.GetProperty("error").GetProperty("type").GetString().ShouldBe(type);
        body.RootElement.GetProperty("error").GetProperty("message").GetString().ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task MissingMaxTokens_IsRejected_AsAnthropicDoes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_mock.BaseAddress, "v1/messages"))
        {
            Content = new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", ApiKey);
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldContain("max_tokens");
    }
}
