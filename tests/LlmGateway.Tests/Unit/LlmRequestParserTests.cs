using System.Buffers;
using System.Text;
using LlmGateway.Errors;
using LlmGateway.Parsing;

namespace LlmGateway.Tests.Unit;

public sealed class LlmRequestParserTests
{
    private static (LlmRequestFeature? Feature, GatewayError? Error) Parse(string json, LlmOperation operation = LlmOperation.ChatCompletions)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var buffer = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(buffer, 0);
        var feature = LlmRequestParser.Parse(operation, buffer, bytes.Length, out var error);
        return (feature, error);
    }

    [Fact]
    public void ReadsTheFieldsLaterStagesNeed()
    {
        var (feature, error) = Parse("""
            {"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,
             "stream_options":{"include_usage":true},"max_tokens":50,"temperature":0.2,"user":"u-1"}
            """);

        error.ShouldBeNull();
        using (feature)
        {
            feature!.Model.ShouldBe("gpt-4o");
            feature.Stream.ShouldBeTrue();
            feature.IncludeUsage.ShouldBeTrue();
            feature.MaxOutputTokens.ShouldBe(50);
            feature.Temperature.ShouldBe(0.2);
            feature.User.ShouldBe("u-1");
            feature.Root.GetProperty("messages").GetArrayLength().ShouldBe(1);
        }
    }

    [Fact]
    public void PrefersMaxCompletionTokens_OverTheDeprecatedMaxTokens()
    {
        var (feature, _) = Parse("""{"model":"m","messages":[],"max_completion_tokens":7,"max_tokens":99}""");
        using (feature)
        {
            feature!.MaxOutputTokens.ShouldBe(7);
        }
    }

    [Fact]
    public void ReadsFieldsWhoseNamesAreEscaped_AsJsonDefinesThem()
    {
        var (feature, _) = Parse("""{"mod\u0065l":"m","messages":[],"max_\u006Futput_tokens":9}""");
        using (feature)
        {
            feature!.Model.ShouldBe("m");
            feature.MaxOutputTokens.ShouldBe(9);
        }
    }

    [Fact]
    public void ReadsTheAnthropicEndUser_FromMetadata_OnlyForMessages()
    {
        const string Json = """{"model":"m","messages":[],"metadata":{"user_id":"u-9"}}""";
        var (messages, _) = Parse(Json, LlmOperation.Messages);
        var (chat, _) = Parse(Json);
        using (messages)
        using (chat)
        {
            messages!.User.ShouldBe("u-9");
            chat!.User.ShouldBeNull();
        }
    }

    [Fact]
    public void KeepsTheBodyExactlyAsSent()
    {
        const string Json = """{ "model" : "m", "messages": [ ] , "x-unknown": {"a":[1,2]} }""";
        var (feature, _) = Parse(Json);
        using (feature)
        {
            Encoding.UTF8.GetString(feature!.Body.Span).ShouldBe(Json);
        }
    }

    [Theory]
    [InlineData("{not json", 400, "invalid_json", null)]
    [InlineData("[1,2]", 400, "invalid_json", null)]
    [InlineData("""{"messages":[]}""", 400, "missing_required_parameter", "model")]
    [InlineData("""{"model":"","messages":[]}""", 400, "missing_required_parameter", "model")]
    [InlineData("""{"model":42,"messages":[]}""", 400, "invalid_value", "model")]
    [InlineData("""{"model":"m"}""", 400, "missing_required_parameter", "messages")]
    [InlineData("""{"model":"m","messages":[],"stream":"yes"}""", 400, "invalid_value", "stream")]
    [InlineData("""{"model":"m","messages":[],"max_tokens":-1}""", 400, "invalid_value", "max_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_tokens":1.5}""", 400, "invalid_value", "max_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_completion_tokens":0}""", 400, "invalid_value", "max_completion_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_output_tokens":"many"}""", 400, "invalid_value", "max_output_tokens")]
    [InlineData("""{"model":"m","messages":[],"user":7}""", 400, "invalid_value", "user")]
    [InlineData("""{"model":"m","messages":[],"temperature":"hot"}""", 400, "invalid_value", "temperature")]
    [InlineData("""{"model":"m","messages":[],"stream_options":{"include_usage":1}}""", 400, "invalid_value", "stream_options.include_usage")]
    public void RejectsBadInput_WithOpenAiStyleErrors(string json, int status, string code, string? param)
    {
        var (feature, error) = Parse(json);

        feature.ShouldBeNull();
        error.ShouldNotBeNull();
        error.StatusCode.ShouldBe(status);
        error.Code.ShouldBe(code);
        error.Param.ShouldBe(param);
        error.Type.ShouldBe("invalid_request_error");
    }

    [Theory]
    [InlineData(LlmOperation.Completions, """{"model":"m"}""", "prompt")]
    [InlineData(LlmOperation.Embeddings, """{"model":"m"}""", "input")]
    public void RequiresEachOperationsInput(LlmOperation operation, string json, string param)
    {
        var (_, error) = Parse(json, operation);
        error!.Param.ShouldBe(param);
    }

    [Fact]
    public void AcceptsAResponsesRequestWithoutInput_BecauseItMayContinueAPreviousResponse()
    {
        var (feature, error) = Parse("""{"model":"m","previous_response_id":"resp_1"}""", LlmOperation.Responses);
        error.ShouldBeNull();
        feature!.Dispose();
    }

    [Fact]
    public void ErrorMessages_NeverQuoteTheRequestBody()
    {
        var (_, error) = Parse("""{"model":"m","messages":[{"content":"secret-token-123"}], oops""");
        error!.Message.ShouldNotContain("secret-token-123");
    }
}
