using System.Text;
using LlmGateway.Metering;

namespace LlmGateway.Tests.Unit;

public sealed class ResponseMetadataTests
{
    [Fact]
    public void ChatCompletionBody_GivesTheTopLevelId_AndOneFinishReasonPerChoice()
    {
        // choices before id, a tool call's own id, and a text that looks like a finish reason: none may fool the reader.
        var body = """
            {"choices":[
              {"index":0,"message":{"role":"assistant","content":"\"finish_reason\":\"fake\"","tool_calls":[{"id":"call_1","type":"function"}]},"finish_reason":"tool_calls"},
              {"index":1,"message":{"role":"assistant","content":"hi"},"finish_reason" : "length"}],
             "id":"chatcmpl-42","object":"chat.completion","usage":{"prompt_tokens":3,"completion_tokens":4}}
            """u8;
        var metadata = new ResponseMetadata();

        metadata.ReadBody(body);

        metadata.Id.ShouldBe("chatcmpl-42");
        metadata.ToFinishReasons().ShouldBe(["tool_calls", "length"]);
    }

    [Fact]
    public void AnthropicMessageBody_GivesItsIdAndStopReason_NotThoseOfItsToolUse()
    {
        var body = """
            {"id":"msg_01X","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{"stop_reason":"no"}}],
             "model":"claude","stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":6}}
            """u8;
        var metadata = new ResponseMetadata();

        metadata.ReadBody(body);

        metadata.Id.ShouldBe("msg_01X");
        metadata.ToFinishReasons().ShouldBe(["tool_use"]);
    }

    [Theory]
    [InlineData("""{"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","id":"msg_1","status":"completed"}]}""", "stop")]
    [InlineData("""{"id":"resp_1","object":"response","output":[{"type":"function_call","id":"fc_1","status":"completed"}],"status":"completed"}""", "tool_call")]
    [InlineData("""{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]}""", "length")]
    [InlineData("""{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[]}""", "content_filter")]
    [InlineData("""{"id":"resp_1","object":"response","status":"failed","error":{"code":"server_error"},"output":[]}""", "error")]
    public void ResponsesApiBody_MapsItsStatus_ToTheConventionsFinishReason(string body, string reason)
    {
        var metadata = new ResponseMetadata();

        metadata.ReadBody(Encoding.UTF8.GetBytes(body));

        metadata.Id.ShouldBe("resp_1");
        metadata.ToFinishReasons().ShouldBe([reason]);
    }

    [Fact]
    public void ResponsesApiBody_StillInProgress_HasNoFinishReason()
    {
        var metadata = new ResponseMetadata();

        metadata.ReadBody("""{"id":"resp_1","object":"response","status":"in_progress","output":[]}"""u8);

        metadata.Id.ShouldBe("resp_1");
        metadata.ToFinishReasons().ShouldBeNull();
    }

    [Theory]
    [InlineData("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"m","usage":{"prompt_tokens":2,"total_tokens":2}}""")]
    [InlineData("""{"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}}""")]
    [InlineData("""not json""")]
    [InlineData("""{"id":"","choices":[{"finish_reason":null}]}""")]
    public void BodiesWithoutIdOrFinishReason_RecordNeither(string body)
    {
        var metadata = new ResponseMetadata();

        metadata.ReadBody(Encoding.UTF8.GetBytes(body));

        metadata.Id.ShouldBeNull();
        metadata.ToFinishReasons().ShouldBeNull();
    }

    [Fact]
    public void TruncatedBody_KeepsWhatWasReadBeforeItBroke_WithoutThrowing()
    {
        var metadata = new ResponseMetadata();

        metadata.ReadBody("""{"id":"chatcmpl-1","choices":[{"finish_reason":"stop"},{"finish_reason":"len"""u8);

        metadata.Id.ShouldBe("chatcmpl-1");
        metadata.ToFinishReasons().ShouldBe(["stop"]);
    }

    [Fact]
    public void EscapedAndUnknownReasons_AreReadAsText_AndAnOversizedIdIsLeftOut()
    {
        var longId = new string('x', ResponseMetadata.MaxIdBytes + 1);
        var metadata = new ResponseMetadata();

        metadata.ReadBody(Encoding.UTF8.GetBytes($$"""{"id":"{{longId}}","choices":[{"finish_reason":"\u0073top"},{"finish_reason":"vendor_specific"}]}"""));

        metadata.Id.ShouldBeNull();
        metadata.ToFinishReasons().ShouldBe(["stop", "vendor_specific"]);
    }

    [Fact]
    public void OpenAiStream_TakesTheIdOfTheFirstChunkWithOne_AndTheFinishReasonOfTheLast()
    {
        var metadata = new ResponseMetadata();
        string[] chunks =
        [
            // Azure's content-filter chunk comes first, with an empty id.
            """{"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0}]}""",
            """{"id":"chatcmpl-7","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """{"id":"chatcmpl-7","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function"}]},"finish_reason":null}]}""",
            """{"id":"chatcmpl-7","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\"finish_reason\":\"fake\""},"finish_reason":null}]}""",
            """{"id":"chatcmpl-7","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            """{"id":"chatcmpl-7","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}""",
            "[DONE]",
        ];

        foreach (var chunk in chunks)
        {
            metadata.ReadEvent(Encoding.UTF8.GetBytes(chunk));
        }

        metadata.Id.ShouldBe("chatcmpl-7");
        metadata.ToFinishReasons().ShouldBe(["stop"]);
    }

    [Fact]
    public void AnthropicStream_TakesTheIdOfMessageStart_AndTheStopReasonOfMessageDelta()
    {
        var metadata = new ResponseMetadata();
        string[] events =
        [
            """{"type":"message_start","message":{"id":"msg_42","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}""",
            """{"type":"content_block_stop","index":0}""",
            """{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":16}}""",
            """{"type":"message_stop"}""",
        ];

        foreach (var data in events)
        {
            metadata.ReadEvent(Encoding.UTF8.GetBytes(data));
        }

        metadata.Id.ShouldBe("msg_42");
        metadata.ToFinishReasons().ShouldBe(["max_tokens"]);
    }

    [Fact]
    public void ResponsesApiStream_TakesTheIdOfResponseCreated_AndTheStatusOfResponseCompleted()
    {
        var metadata = new ResponseMetadata();
        string[] events =
        [
            """{"type":"response.created","sequence_number":0,"response":{"id":"resp_5","object":"response","status":"in_progress","output":[]}}""",
            """{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","delta":"response.completed"}""",
            """{"type":"response.completed","sequence_number":2,"response":{"id":"resp_5","object":"response","status":"completed","output":[{"type":"message","id":"msg_1","status":"completed"}]}}""",
        ];

        foreach (var data in events)
        {
            metadata.ReadEvent(Encoding.UTF8.GetBytes(data));
        }

        metadata.Id.ShouldBe("resp_5");
        metadata.ToFinishReasons().ShouldBe(["stop"]);
    }

    [Fact]
    public void StreamWithoutIds_RecordsNone()
    {
        var metadata = new ResponseMetadata();

        metadata.ReadEvent("""{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"""u8);
        metadata.ReadEvent("""{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"""u8);

        metadata.Id.ShouldBeNull();
        metadata.ToFinishReasons().ShouldBe(["length"]);
    }
}
