using System.Buffers;
using System.Text;
using LlmGateway.Providers.Anthropic;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>Error bodies in Anthropic's documented shape (Anthropic "Errors": HTTP status and error.type pairs).</summary>
public sealed class AnthropicErrorsTests
{
    [Theory]
    [InlineData(400, "invalid_request_error", 400, "invalid_request_error", null)]
    [InlineData(401, "authentication_error", 401, "invalid_request_error", "invalid_api_key")]
    [InlineData(402, "billing_error", 402, "invalid_request_error", "insufficient_quota")]
    [InlineData(403, "permission_error", 403, "invalid_request_error", "permission_denied")]
    [InlineData(404, "not_found_error", 404, "invalid_request_error", "not_found")]
    [InlineData(413, "request_too_large", 413, "invalid_request_error", "request_too_large")]
    [InlineData(429, "rate_limit_error", 429, "rate_limit_exceeded", "rate_limit_exceeded")]
    [InlineData(500, "api_error", 500, "server_error", null)]
    [InlineData(504, "timeout_error", 504, "server_error", "timeout")]
    [InlineData(529, "overloaded_error", 503, "server_error", "overloaded")]
    [InlineData(529, "something_new", 503, "server_error", "overloaded")]
    [InlineData(418, "something_new", 418, "invalid_request_error", null)]
    public void AnthropicErrors_MapToOpenAiStatusTypeAndCode(int status, string anthropicType, int expectedStatus, string expectedType, string? expectedCode)
    {
        var body = $$"""{"type":"error","error":{"type":"{{anthropicType}}","message":"Details here"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}""";

        var error = AnthropicErrors.ToOpenAi(status, Encoding.UTF8.GetBytes(body));

        error.StatusCode.ShouldBe(expectedStatus);
        error.Type.ShouldBe(expectedType);
        error.Code.ShouldBe(expectedCode);
        error.Message.ShouldBe("Details here");
    }

    [Fact]
    public void ABodyThatIsNotJson_StillMapsByStatus()
    {
        var error = AnthropicErrors.ToOpenAi(502, "<html>Bad gateway</html>"u8);

        error.StatusCode.ShouldBe(502);
        error.Type.ShouldBe("server_error");
        error.Message.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(502, "api_error")]
    [InlineData(503, "overloaded_error")]
    public void OpenAiErrors_BecomeAnthropicErrors_KeepingTheMessage(int status, string anthropicType)
    {
        var output = new ArrayBufferWriter<byte>();
        AnthropicErrors.WriteFromOpenAi(status, """{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}"""u8, output);

        var error = Translate.Parse(Encoding.UTF8.GetString(output.WrittenSpan));
        error.GetProperty("type").GetString().ShouldBe("error");
        error.GetProperty("error").GetProperty("type").GetString().ShouldBe(anthropicType);
        error.GetProperty("error").GetProperty("message").GetString().ShouldBe("Rate limit reached for gpt-4o");
    }
}
