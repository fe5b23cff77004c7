using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using LlmGateway.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>Metering through one gateway with in-memory stores, driven by the official OpenAI SDK where natural.</summary>
public sealed class MeteringTests : IAsyncLifetime
{
    private const string AdminKey = "sk-gw-admin-test-0003";

    private MockProviderServer _upstream = null!;
    private GatewayServer _gateway = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = TestSettings.Standard(_upstream.BaseAddress);
        settings["Gateway:Admin:KeyHash"] = VirtualKeyHash.Compute(AdminKey).ToString();
        settings["Gateway:Metering:Prices:gpt-test:Input"] = "2.5";
        settings["Gateway:Metering:Prices:gpt-test:CachedInput"] = "1.25";
        settings["Gateway:Metering:Prices:gpt-test:Output"] = "10";
        settings["Gateway:Budgets:Keys:bob:LimitUsd"] = "0.000001";
        settings["Gateway:Metering:Routes:gpt-test:DefaultMaxOutputTokens"] = "10";
        _gateway = await GatewayServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task JsonResponses_CarryCostAndTokenHeaders()
    {
        using var client = _gateway.CreateHttpClient(TestSettings.VirtualKey);

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test")), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var usage = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).RootElement.GetProperty("usage");
        var prompt = usage.GetProperty("prompt_tokens").GetInt64();
        var completion = usage.GetProperty("completion_tokens").GetInt64();
        Header(response, "x-gateway-prompt-tokens").ShouldBe(prompt.ToString(CultureInfo.InvariantCulture));
        Header(response, "x-gateway-completion-tokens").ShouldBe(completion.ToString(CultureInfo.InvariantCulture));
        decimal.Parse(Header(response, "x-gateway-cost-usd"), CultureInfo.InvariantCulture).ShouldBe((prompt * 2.5m + completion * 10m) / 1_000_000m);
    }

    [Fact]
    public async Task StreamedAndNonStreamedRequests_MeterIdentically()
    {
        var chat = _gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetChatClient("gpt-test");
        ChatMessage[] messages = [new UserChatMessage("Meter me the same way twice.")];

        var completion = (await chat.CompleteChatAsync(messages, new ChatCompletionOptions { EndUserId = "user-plain" }, Cancel)).Value;
        var streamedText = "";
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, new ChatCompletionOptions { EndUserId = "user-streamed" }, Cancel))
        {
            streamedText += string.Concat(update.ContentUpdate.Select(part => part.Text));
        }

        streamedText.ShouldBe(completion.Content[0].Text);
        var plain = await SpendOfAsync("user", "user-plain");
        var streamed = await SpendOfAsync("user", "user-streamed");
        streamed.GetRawText().ShouldBe(plain.GetRawText());
        plain.GetProperty("prompt_tokens").GetInt64().ShouldBe(completion.Usage.InputTokenCount);
        plain.GetProperty("completion_tokens").GetInt64().ShouldBe(completion.Usage.OutputTokenCount);
        plain.GetProperty("estimated_requests").GetInt64().ShouldBe(0);
    }

    [Fact]
    public async Task UsageChunk_IsHiddenFromClientsThatDidNotAskForIt_AndKeptForThoseWhoDid()
    {
        using var client = _gateway.CreateHttpClient(TestSettings.VirtualKey);
        var withoutUsage = ChatBody("gpt-test", stream: true);
        var withUsage = withoutUsage.Replace("\"stream\":true", "\"stream\":true,\"stream_options\":{\"include_usage\":true}", StringComparison.Ordinal);

        using var hidden = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(withoutUsage), Cancel);
        using var kept = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(withUsage), Cancel);

        var hiddenText = await hidden.Content.ReadAsStringAsync(Cancel);
        hiddenText.ShouldNotContain("\"usage\":{");
        hiddenText.ShouldEndWith("data: [DONE]\n\n");
        (await kept.Content.ReadAsStringAsync(Cancel)).ShouldContain("\"usage\":{\"prompt_tokens\"");
        (await SpendOfAsync("key", "alice")).GetProperty("estimated_requests").GetInt64().ShouldBe(0);
    }

    [Fact]
    public async Task AClientThatDisconnectsMidStream_IsStillMetered_WithWhatWasProduced()
    {
        using var client = _gateway.CreateHttpClient(TestSettings.OtherVirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt", stream: true)) };
        request.Headers.Add("x-mock-token-delay-ms", "100");
        request.Headers.Add("x-mock-completion-tokens", "200");
        request.Headers.Add("x-gateway-user", "leaver");

        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
            var contentChunks = 0;
            while (contentChunks < 5 && await reader.ReadLineAsync(Cancel) is { } line)
            {
                if (line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
                {
                    contentChunks++;
                }
            }
        }

        var record = await SpendOfAsync("user", "leaver");
        record.GetProperty("requests").GetInt64().ShouldBe(1);
        record.GetProperty("estimated_requests").GetInt64().ShouldBe(1);
        record.GetProperty("unpriced_requests").GetInt64().ShouldBe(1);
        record.GetProperty("prompt_tokens").GetInt64().ShouldBeGreaterThan(0);
        record.GetProperty("completion_tokens").GetInt64().ShouldBeInRange(5, 199);
    }

    [Fact]
    public async Task ARequestOverBudget_GetsBudgetExceeded_InOpenAIsShape()
    {
        var options = new OpenAIClientOptions { Endpoint = _gateway.OpenAIEndpoint, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) };
        var chat = new OpenAIClient(new ApiKeyCredential(TestSettings.OtherVirtualKey), options).GetChatClient("gpt-test");

        var exception = await Should.ThrowAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Too expensive?")], cancellationToken: Cancel));

        exception.Status.ShouldBe(429);
        using var raw = _gateway.CreateHttpClient(TestSettings.OtherVirtualKey);
        using var response = await raw.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test")), Cancel);
        var error = await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.TooManyRequests, "budget_exceeded");
        error.GetProperty("message").GetString()!.ShouldContain("virtual key 'bob'");

        // The worst case: the prompt estimated at 4 bytes per token, plus the route's default of 10 output tokens.
        var worstCase = ((Encoding.UTF8.GetByteCount(ChatBody("gpt-test")) + 3) / 4 * 2.5m + 10 * 10m) / 1_000_000m;
        error.GetProperty("message").GetString()!.ShouldContain($"may cost up to ${worstCase.ToString("0.############", CultureInfo.InvariantCulture)}.");
    }

    [Fact]
    public async Task TheSpendEndpoint_RefusesAnyoneWithoutTheAdminKey()
    {
        using var anonymous = _gateway.CreateHttpClient();
        using var tenant = _gateway.CreateHttpClient(TestSettings.VirtualKey);

        using var withoutKey = await anonymous.GetAsync(new Uri("admin/spend", UriKind.Relative), Cancel);
        using var withVirtualKey = await tenant.GetAsync(new Uri("admin/spend", UriKind.Relative), Cancel);

        await withoutKey.ShouldBeOpenAiErrorAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        await withVirtualKey.ShouldBeOpenAiErrorAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.TryGetValues(name, out var values) ? values.Single() : "";

    private async Task<JsonElement> SpendOfAsync(string groupBy, string value)
    {
        using var admin = _gateway.CreateHttpClient(AdminKey);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var json = await admin.GetStringAsync(new Uri($"admin/spend?group_by={groupBy}", UriKind.Relative), Cancel);
            foreach (var row in JsonDocument.Parse(json).RootElement.GetProperty("data").EnumerateArray())
            {
                if (row.GetProperty("value").GetString() == value)
                {
                    var result = JsonDocument.Parse(row.GetRawText().Replace($"\"value\":\"{value}\"", "\"value\":\"\"", StringComparison.Ordinal)).RootElement;
                    return result;
                }
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, $"no spend recorded for {groupBy} '{value}' within 10 s");
            await Task.Delay(50, Cancel);
        }
    }
}
