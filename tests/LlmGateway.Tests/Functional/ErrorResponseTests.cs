using System.Net;
using System.Text;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>Every kind of bad input or upstream failure gets its OpenAI-shaped error, and the gateway keeps serving.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class ErrorResponseTests(GatewayFixture fixture)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string, HttpStatusCode, string> BadRequests => new()
    {
        { "malformed JSON", "/v1/chat/completions", """{"model":"mock-gpt","messages":[""", HttpStatusCode.BadRequest, "invalid_json" },
        { "missing model", "/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""", HttpStatusCode.BadRequest, "missing_required_parameter" },
        { "missing messages", "/v1/chat/completions", """{"model":"mock-gpt"}""", HttpStatusCode.BadRequest, "missing_required_parameter" },
        { "unknown model", "/v1/chat/completions", ChatBody("no-such-model"), HttpStatusCode.NotFound, "model_not_found" },
        { "unknown model on embeddings", "/v1/embeddings", """{"model":"nope","input":"x"}""", HttpStatusCode.NotFound, "model_not_found" },
        { "upstream unreachable", "/v1/chat/completions", ChatBody("dead-model"), HttpStatusCode.BadGateway, "upstream_unreachable" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequest_GetsItsError_AndTheNextRequestSucceeds(string because, string path, string body, HttpStatusCode status, string code)
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);

        using (var response = await client.PostAsync(new Uri(path, UriKind.Relative), Json(body), Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync(status, code);
        }

        await ShouldStillServeAsync(client, because);
    }

    [Fact]
    public async Task UpstreamTimeout_Is504()
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("slow-model")) };
        request.Headers.Add("x-mock-ttft-ms", "4000");

        using (var response = await client.SendAsync(request, Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.GatewayTimeout, "upstream_timeout");
        }

        await ShouldStillServeAsync(client, "after a timeout");
    }

    [Theory]
    [InlineData(429, "rate_limit_exceeded")]
    [InlineData(500, null)]
    [InlineData(503, null)]
    [InlineData(400, null)]
    public async Task UpstreamErrors_PassThroughWithTheirStatusAndBody(int status, string? code)
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody("mock-gpt")) };
        request.Headers.Add("x-mock-error-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("x-mock-retry-after", "7");

        using (var response = await client.SendAsync(request, Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync((HttpStatusCode)status, code);
            response.Headers.RetryAfter?.Delta.ShouldBe(TimeSpan.FromSeconds(7));
        }

        await ShouldStillServeAsync(client, "after an upstream error");
    }

    [Theory]
    [InlineData(null, "invalid_api_key")]
    [InlineData("sk-wrong", "invalid_api_key")]
    public async Task MissingOrWrongKey_Is401(string? key, string code)
    {
        using var client = fixture.Gateway.CreateHttpClient(key);

        using (var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel))
        {
            var error = await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.Unauthorized, code);
            if (key is not null)
            {
                error.GetProperty("message").GetString()!.ShouldNotContain(key);
            }
        }

        using var authorized = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        await ShouldStillServeAsync(authorized, "after a rejected key");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyOverTheLimit_Is413_WithOrWithoutContentLength(bool sendContentLength)
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);
        var body = Encoding.UTF8.GetBytes(ChatBody("mock-gpt", question: new string('x', 100 * 1024)));
        HttpContent content = sendContentLength
            ? new ByteArrayContent(body)
            : new StreamContent(new NonSeekableStream(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using (var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), content, Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        }

        await ShouldStillServeAsync(client, "after an oversized body");
    }

    [Fact]
    public async Task UnknownPathsAndMethods_GetOpenAiErrors()
    {
        using var client = fixture.Gateway.CreateHttpClient(TestSettings.VirtualKey);

        using (var response = await client.PostAsync(new Uri("v1/no/such/thing", UriKind.Relative), Json("{}"), Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.NotFound, "unknown_url");
        }

        using (var response = await client.GetAsync(new Uri("v1/chat/completions", UriKind.Relative), Cancel))
        {
            await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        }
    }

    private static async Task ShouldStillServeAsync(HttpClient client, string because)
    {
        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("mock-gpt")), Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"the gateway should keep serving {because}: {await response.Content.ReadAsStringAsync(Cancel)}");
    }

    /// <summary>Makes HttpClient send the body chunked, without a Content-Length.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
