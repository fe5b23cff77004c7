using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Replicas;

/// <summary>
/// Two gateway processes sharing one real Redis, in front of one mock upstream: budgets, metering and rate limits
/// must hold across replicas as if there were one gateway.
/// </summary>
public sealed class SharedRedisReplicaTests : IAsyncLifetime
{
    private const string AdminKey = "sk-gw-admin-test-0003";
    private const string CarolKey = "sk-gw-test-carol-0004";

    // Prices high enough that a $1 budget runs out after a few dozen requests.
    private const decimal InputPrice = 1_000m;
    private const decimal OutputPrice = 2_000m;
    private const int MaxTokens = 20;

    private RedisServer _redis = null!;
    private MockProviderServer _upstream = null!;
    private GatewayProcess _first = null!;
    private GatewayProcess _second = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = TestSettings.Standard(_upstream.BaseAddress);
        // A command timeout far past the shipped 2 s: on a busy machine a cold replica's first commands can take longer,
        // and under the default FailOpen policy that replica would then serve without the shared limits, which is
        // RedisOutageTests' subject, not this class's.
        settings["ConnectionStrings:Redis"] = _redis.ConnectionString + ",syncTimeout=15000";
        settings["Gateway:Admin:KeyHash"] = VirtualKeyHash.Compute(AdminKey).ToString();
        settings["Gateway:Metering:Prices:gpt-test:Input"] = InputPrice.ToString(CultureInfo.InvariantCulture);
        settings["Gateway:Metering:Prices:gpt-test:Output"] = OutputPrice.ToString(CultureInfo.InvariantCulture);
        settings["Gateway:Budgets:Keys:alice:LimitUsd"] = "1";
        settings["Gateway:Budgets:Keys:alice:Period"] = "Day";
        settings["Gateway:RateLimits:Keys:bob:RequestsPerMinute"] = "10";
        settings["Gateway:VirtualKeys:carol:KeyHash"] = VirtualKeyHash.Compute(CarolKey).ToString();
        settings["Gateway:RateLimits:Keys:carol:TokensPerMinute"] = "1000";

        var starting = new[] { GatewayProcess.StartAsync(settings), GatewayProcess.StartAsync(settings) };
        await Task.WhenAll(starting);
        _first = starting[0].Result;
        _second = starting[1].Result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in new[] { _first, _second })
        {
            if (gateway is not null)
            {
                await gateway.DisposeAsync();
            }
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task ABudget_HoldsAcrossTwoReplicas_AndEverySuccessIsMeteredExactlyOnce()
    {
        using var first = _first.CreateHttpClient(TestSettings.VirtualKey);
        using var second = _second.CreateHttpClient(TestSettings.VirtualKey);

        // 200 at once, alternating replicas, half of them streamed.
        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var client = i % 2 == 0 ? first : second;
            using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(Body(stream: i % 4 < 2)), Cancel);
            var text = await response.Content.ReadAsStringAsync(Cancel);
            return (response.StatusCode, Text: text);
        }));

        var succeeded = responses.Count(response => response.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(response => response.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        (succeeded + refused.Count).ShouldBe(200, "every request either succeeds or is refused for its budget");
        succeeded.ShouldBeGreaterThan(0);
        refused.ShouldAllBe(response => response.Text.Contains("\"budget_exceeded\"", StringComparison.Ordinal));

        var total = await WaitForTotalAsync(succeeded);

        // Exactly once: the records add up to what the upstream reported, request for request and token for token.
        total.GetProperty("requests").GetInt64().ShouldBe(_upstream.Stats.UsageReports);
        total.GetProperty("prompt_tokens").GetInt64().ShouldBe(_upstream.Stats.ReportedPromptTokens);
        total.GetProperty("completion_tokens").GetInt64().ShouldBe(_upstream.Stats.ReportedCompletionTokens);
        total.GetProperty("estimated_requests").GetInt64().ShouldBe(0);

        var spent = total.GetProperty("cost_usd").GetDecimal();
        var expected = (_upstream.Stats.ReportedPromptTokens * InputPrice + _upstream.Stats.ReportedCompletionTokens * OutputPrice) / 1_000_000m;
        spent.ShouldBe(expected);
        var oneReservation = ((Body(stream: true).Length + 3) / 4 * InputPrice + MaxTokens * OutputPrice) / 1_000_000m;
        spent.ShouldBeLessThanOrEqualTo(1m + oneReservation);

        // Every reservation was settled: the budget counter holds exactly what was spent.
        var counter = $"llmgw:budget:key:alice:d{DateTime.UtcNow:yyyyMMdd}";
        await WaitUntilAsync(async () => await ReadCounterAsync(counter) == spent);
    }

    [Fact]
    public async Task RequestsPerMinute_HoldAcrossTwoReplicas()
    {
        using var first = _first.CreateHttpClient(TestSettings.OtherVirtualKey);
        using var second = _second.CreateHttpClient(TestSettings.OtherVirtualKey);
        var watch = Stopwatch.StartNew();

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            var client = i % 2 == 0 ? first : second;
            using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(Body(stream: false)), Cancel);
            await response.Content.ReadAsStringAsync(Cancel);
            return (response.StatusCode, response.Headers);
        }));

        // 10 per minute; the bucket refills one request every 6 s, so a slow run may let one more in.
        var allowed = responses.Count(response => response.StatusCode == HttpStatusCode.OK);
        allowed.ShouldBeInRange(10, 10 + (int)(watch.Elapsed.TotalSeconds / 6), string.Join(", ", responses.Select(response => (int)response.StatusCode)));
        var refusal = responses.First(response => response.StatusCode == HttpStatusCode.TooManyRequests).Headers;
        Header(refusal, "x-ratelimit-limit-requests").ShouldBe("10");
        Header(refusal, "x-ratelimit-remaining-requests").ShouldBe("0");
        int.Parse(Header(refusal, "retry-after"), CultureInfo.InvariantCulture).ShouldBeInRange(1, 6);
        Header(refusal, "x-ratelimit-reset-requests").ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task TokensPerMinute_HoldAcrossTwoReplicas()
    {
        using var first = _first.CreateHttpClient(CarolKey);
        using var second = _second.CreateHttpClient(CarolKey);
        var watch = Stopwatch.StartNew();

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            var client = i % 2 == 0 ? first : second;
            using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(Body(stream: false)), Cancel);
            await response.Content.ReadAsStringAsync(Cancel);
            return (response.StatusCode, Tokens: response.Headers.TryGetValues("x-gateway-prompt-tokens", out var prompt)
                ? long.Parse(prompt.Single(), CultureInfo.InvariantCulture) + long.Parse(response.Headers.GetValues("x-gateway-completion-tokens").Single(), CultureInfo.InvariantCulture)
                : 0);
        }));

        // 60 requests, not 30: at about 40 tokens each, 30 were barely past the limit when every give-back landed
        // before the next admission, and this test failed once on a loaded machine.
        // Admission takes each request's worst case and gives back what it did not use, so the tokens actually
        // served stay within the limit, one request's worst case, and what the bucket refilled meanwhile.
        var worstCase = (Body(stream: false).Length + 3) / 4 + MaxTokens;
        var served = responses.Where(response => response.StatusCode == HttpStatusCode.OK).Sum(response => response.Tokens);
        responses.Count(response => response.StatusCode == HttpStatusCode.OK).ShouldBeGreaterThan(0);
        responses.Count(response => response.StatusCode == HttpStatusCode.TooManyRequests).ShouldBeGreaterThan(0);
        served.ShouldBeLessThanOrEqualTo(1_000 + worstCase + (long)Math.Ceiling(watch.Elapsed.TotalSeconds * 1_000 / 60));
    }

    private static string Body(bool stream) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model"] = "gpt-test",
        ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = "Say hello to the gateway." } },
        ["stream"] = stream,
        ["max_tokens"] = MaxTokens,
    });

    private static string Header(HttpResponseHeaders headers, string name) => headers.TryGetValues(name, out var values) ? values.Single() : "";

    private async Task<JsonElement> WaitForTotalAsync(long requests)
    {
        using var admin = _first.CreateHttpClient(AdminKey);
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"));
        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        JsonElement total = default;
        await WaitUntilAsync(async () =>
        {
            var json = await admin.GetStringAsync(new Uri($"admin/spend?group_by=total&from={from}&to={to}", UriKind.Relative), Cancel);
            var data = JsonDocument.Parse(json).RootElement.GetProperty("data");
            total = data.GetArrayLength() == 1 ? data[0].Clone() : default;
            return total.ValueKind == JsonValueKind.Object && total.GetProperty("requests").GetInt64() == requests;
        });
        return total;
    }

    private async Task<decimal> ReadCounterAsync(string key)
    {
        var reply = await _redis.ExecuteAsync("GET", key);
        var lines = reply.Split("\r\n");
        return lines[0] == "$-1" ? 0m : long.Parse(lines[1], CultureInfo.InvariantCulture) / 1_000_000_000_000m;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the condition did not hold within 15 s");
            await Task.Delay(100, Cancel);
        }
    }
}
