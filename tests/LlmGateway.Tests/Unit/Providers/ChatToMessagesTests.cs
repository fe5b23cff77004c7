using System.Buffers;
using System.Text;
using LlmGateway.Providers.Anthropic;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>OpenAI responses (chat.completion and chunk streams) → Anthropic message and events, for <c>/v1/messages</c> clients.</summary>
public sealed class ChatToMessagesTests
{
    private static string RunStream(string openAiStream, IReadOnlyList<int>? cuts = null)
    {
        using var stream = new ChatToMessagesStream();
        return Translate.Feed(Encoding.UTF8.GetBytes(openAiStream), cuts ?? [], stream.Translate, stream.Complete);
    }

    [Fact]
    public void AChatCompletionWithToolCalls_BecomesAMessage()
    {
        // OpenAI "Create chat completion" response example, with a tool call and cached prompt tokens.
        var output = new ArrayBufferWriter<byte>();
        ChatToMessagesResponse.Translate("""
            {"id":"chatcmpl-abc123","object":"chat.completion","created":1699896916,"model":"gpt-4o-mini",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Let me look.","tool_calls":[
               {"id":"call_abc123","type":"function","function":{"name":"get_current_weather","arguments":"{\n\"location\": \"Boston, MA\"\n}"}},
               {"id":"call_broken","type":"function","function":{"name":"f","arguments":"{not json"}}]},
               "logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,"prompt_tokens_details":{"cached_tokens":64}}}
            """u8, output).ShouldBeTrue();

        var message = Translate.Parse(Encoding.UTF8.GetString(output.WrittenSpan));
        message.GetProperty("id").GetString().ShouldBe("chatcmpl-abc123");
        message.GetProperty("type").GetString().ShouldBe("message");
        message.GetProperty("role").GetString().ShouldBe("assistant");
        message.GetProperty("model").GetString().ShouldBe("gpt-4o-mini");
        var content = message.GetProperty("content");
        content[0].GetProperty("type").GetString().ShouldBe("text");
        content[0].GetProperty("text").GetString().ShouldBe("Let me look.");
        content[1].GetProperty("type").GetString().ShouldBe("tool_use");
        content[1].GetProperty("id").GetString().ShouldBe("call_abc123");
        content[1].GetProperty("input").GetProperty("location").GetString().ShouldBe("Boston, MA");
        content[2].GetProperty("input").GetProperty("arguments").GetString().ShouldBe("{not json", "broken arguments are kept, not dropped");
        message.GetProperty("stop_reason").GetString().ShouldBe("tool_use");
        var usage = message.GetProperty("usage");
        usage.GetProperty("input_tokens").GetInt32().ShouldBe(18);
        usage.GetProperty("cache_read_input_tokens").GetInt32().ShouldBe(64);
        usage.GetProperty("output_tokens").GetInt32().ShouldBe(17);
    }

    [Theory]
    [InlineData("stop", "end_turn")]
    [InlineData("length", "max_tokens")]
    [InlineData("tool_calls", "tool_use")]
    [InlineData("content_filter", "refusal")]
    public void FinishReasons_MapToStopReasons(string finishReason, string stopReason)
    {
        var output = new ArrayBufferWriter<byte>();
        ChatToMessagesResponse.Translate(Encoding.UTF8.GetBytes($$"""
            {"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"{{finishReason}}"}]}
            """), output).ShouldBeTrue();

        Translate.Parse(Encoding.UTF8.GetString(output.WrittenSpan)).GetProperty("stop_reason").GetString().ShouldBe(stopReason);
    }

    [Fact]
    public void AChunkStream_BecomesAnthropicEvents_InTheDocumentedOrder()
    {
        var events = Translate.Events(RunStream(RecordedStreams.OpenAiTextAndParallelTools));

        events.Select(e => e.Event).ShouldBe([
            "message_start",
            "content_block_start", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop"]);
        events.ShouldAllBe(e => Translate.Parse(e.Data).GetProperty("type").GetString() == e.Event, "each event's data names its type");

        var start = Translate.Parse(events[0].Data).GetProperty("message");
        start.GetProperty("id").GetString().ShouldBe("chatcmpl-123");
        start.GetProperty("model").GetString().ShouldBe("gpt-4o-mini");
        start.GetProperty("content").GetArrayLength().ShouldBe(0);

        Translate.Parse(events[2].Data).GetProperty("delta").GetProperty("text").GetString().ShouldBe("Checking — \"both\" \u2603");
        var tool = Translate.Parse(events[4].Data);
        tool.GetProperty("index").GetInt32().ShouldBe(1);
        tool.GetProperty("content_block").GetProperty("type").GetString().ShouldBe("tool_use");
        tool.GetProperty("content_block").GetProperty("id").GetString().ShouldBe("call_abc");
        tool.GetProperty("content_block").GetProperty("name").GetString().ShouldBe("get_weather");
        var arguments = string.Concat(events.Skip(5).Take(2).Select(e => Translate.Parse(e.Data).GetProperty("delta").GetProperty("partial_json").GetString()));
        Translate.Parse(arguments).GetProperty("location").GetString().ShouldBe("Paris");
        Translate.Parse(events[8].Data).GetProperty("content_block").GetProperty("name").GetString().ShouldBe("get_time");
        Translate.Parse(events[8].Data).GetProperty("index").GetInt32().ShouldBe(2);

        var delta = Translate.Parse(events[11].Data);
        delta.GetProperty("delta").GetProperty("stop_reason").GetString().ShouldBe("tool_use");
        delta.GetProperty("usage").GetProperty("input_tokens").GetInt32().ShouldBe(20);
        delta.GetProperty("usage").GetProperty("cache_read_input_tokens").GetInt32().ShouldBe(100);
        delta.GetProperty("usage").GetProperty("output_tokens").GetInt32().ShouldBe(30);
    }

    [Fact]
    public void EverySplitPoint_ProducesTheSameOutput_AsOneRead()
    {
        var whole = RunStream(RecordedStreams.OpenAiTextAndParallelTools);
        var length = Encoding.UTF8.GetByteCount(RecordedStreams.OpenAiTextAndParallelTools);

        for (var cut = 1; cut < length; cut++)
        {
            RunStream(RecordedStreams.OpenAiTextAndParallelTools, [cut]).ShouldBe(whole, $"split at byte {cut}");
        }
    }

    [Fact]
    public void AStreamCutMidAnswer_EndsWithAnErrorEvent()
    {
        var cut = RecordedStreams.OpenAiTextAndParallelTools[..RecordedStreams.OpenAiTextAndParallelTools.IndexOf("\"finish_reason\":\"tool_calls\"", StringComparison.Ordinal)];

        var events = Translate.Events(RunStream(cut[..(cut.LastIndexOf("\n\n", StringComparison.Ordinal) + 2)]));

        events[^1].Event.ShouldBe("error");
        Translate.Parse(events[^1].Data).GetProperty("error").GetProperty("type").GetString().ShouldBe("api_error");
        events.ShouldNotContain(e => e.Event == "message_stop");
    }
}
