using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>
/// The exact <c>x-ratelimit-*</c> headers and refusals of one gateway with in-memory buckets. Each test starts its own
/// gateway, so its first request meets full buckets and every value is known in advance.
/// </summary>
public sealed class RateLimitHeaderTests : IAsyncLifetime
{
    private const string CarolKey = "sk-gw-test-carol-0004";
    private const int MaxTokens = 20;

    private MockProviderServer _upstream = null!;
    private GatewayServer _gateway = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    // What a request takes from a token bucket: its body's size in tokens (4 bytes each, rounded up) and max_tokens.
    private static long WorstCaseTokens => (Encoding.UTF8.GetByteCount(Body) + 3) / 4 + MaxTokens;

    private static string Body => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model"] = "gpt-test",
        ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = "Say hello to the gateway." } },
        ["max_tokens"] = MaxTokens,
    });

    public async ValueTask InitializeAsync()
    {
        _upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = TestSettings.Standard(_upstream.BaseAddress);
        settings["Gateway:Metering:Prices:gpt-test:Input"] = "2.5";
        settings["Gateway:Metering:Prices:gpt-test:Output"] = "10";
        settings["Gateway:RateLimits:Keys:alice:RequestsPerMinute"] = "10";
        settings["Gateway:RateLimits:Keys:alice:TokensPerMinute"] = "100000";
        settings["Gateway:RateLimits:Teams:team-a:RequestsPerMinute"] = "5";
        settings["Gateway:RateLimits:Keys:bob:RequestsPerMinute"] = "1";
        settings["Gateway:VirtualKeys:carol:KeyHash"] = VirtualKeyHash.Compute(CarolKey).ToString();
        settings["Gateway:VirtualKeys:carol:Team"] = "team-c";
        settings["Gateway:RateLimits:Teams:team-c:TokensPerMinute"] = "10";
        _gateway = await GatewayServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task AnAdmittedRequest_ReportsTheTightestRequestBucketAndTheTightestTokenBucket()
    {
        using var client = _gateway.CreateHttpClient(TestSettings.VirtualKey);

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(Body), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);

        // The team's 4 of 5 is tighter than the key's 9 of 10; a request comes back every 60 s / 5.
        Header(response, "x-ratelimit-limit-requests").ShouldBe("5");
        Header(response, "x-ratelimit-remaining-requests").ShouldBe("4");
        Header(response, "x-ratelimit-reset-requests").ShouldBe("12s");
        Header(response, "x-ratelimit-limit-tokens").ShouldBe("100000");
        Header(response, "x-ratelimit-remaining-tokens").ShouldBe((100_000 - WorstCaseTokens).ToString(CultureInfo.InvariantCulture));
        Header(response, "x-ratelimit-reset-tokens").ShouldBe($"{Math.Ceiling(WorstCaseTokens * 60_000 / 100_000d)}ms");
    }

    [Fact]
    public async Task ARequestOverItsKeysRequestLimit_IsRefusedWithTheHeadersAndRetryAfter()
    {
        using var client = _gateway.CreateHttpClient(TestSettings.OtherVirtualKey);

        using var admitted = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(Body), Cancel);
        using var refused = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(Body), Cancel);

        admitted.StatusCode.ShouldBe(HttpStatusCode.OK);
        Header(admitted, "x-ratelimit-limit-requests").ShouldBe("1");
        Header(admitted, "x-ratelimit-remaining-requests").ShouldBe("0");
        Header(admitted, "x-ratelimit-reset-requests").ShouldBe("1m0s");
        admitted.Headers.Contains("x-ratelimit-limit-tokens").ShouldBeFalse("bob has no token limit");

        var error = await refused.ShouldBeOpenAiErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_exceeded");
        error.GetProperty("type").GetString().ShouldBe("requests");
        error.GetProperty("message").GetString()!.ShouldStartWith("Rate limit reached for virtual key 'bob' on requests per min (RPM): limit 1. Please try again in ");
        Header(refused, "x-ratelimit-limit-requests").ShouldBe("1");
        Header(refused, "x-ratelimit-remaining-requests").ShouldBe("0");
        Header(refused, "x-ratelimit-reset-requests").ShouldMatch(@"^(\d+(\.\d{1,3})?s|\d+ms|1m0s)$");
        int.Parse(Header(refused, "retry-after"), CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
    }

    [Fact]
    public async Task ARequestWhoseWorstCaseExceedsItsTeamsTokenLimit_IsRefusedWithTheTimeItWouldTake()
    {
        using var client = _gateway.CreateHttpClient(CarolKey);

        using var refused = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(Body), Cancel);

        // The full bucket holds 10 and refills 10 a minute: the worst case is there after (worst case - 10) * 6 s.
        var wait = TimeSpan.FromSeconds((WorstCaseTokens - 10) * 6);
        var error = await refused.ShouldBeOpenAiErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_exceeded");
        error.GetProperty("type").GetString().ShouldBe("tokens");
        error.GetProperty("message").GetString().ShouldBe(
            $"Rate limit reached for team 'team-c' on tokens per min (TPM): limit 10. Please try again in {(long)wait.TotalMinutes}m{wait.Seconds}s.");
        Header(refused, "retry-after").ShouldBe(((long)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        Header(refused, "x-ratelimit-limit-tokens").ShouldBe("10");
        Header(refused, "x-ratelimit-remaining-tokens").ShouldBe("10");
        Header(refused, "x-ratelimit-reset-tokens").ShouldBe("0ms");
        refused.Headers.Contains("x-ratelimit-limit-requests").ShouldBeFalse("carol's team has no request limit");
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : "";
}
