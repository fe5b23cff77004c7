using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Providers.Anthropic;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>
/// Anthropic message → OpenAI chat.completion. Inputs follow the response examples of Anthropic's Messages reference
/// and "Tool use" guide (text blocks, tool_use blocks with id/name/input, stop_reason, usage with cache fields).
/// </summary>
public sealed class MessagesToChatResponseTests
{
    private static JsonElement Run(string anthropicMessage, ChatTranslation? translation = null)
    {
        var output = new ArrayBufferWriter<byte>();
        MessagesToChatResponse.Translate(Encoding.UTF8.GetBytes(anthropicMessage), translation ?? new ChatTranslation(false, false, null), Translate.Created, output)
            .ShouldBeTrue();
        return Translate.Parse(Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void AText_Message_BecomesAChatCompletion()
    {
        var completion = Run("""
            {"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
             "content":[{"type":"text","text":"Hi! My name is Claude."}],
             "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2095,"output_tokens":503}}
            """);

        completion.GetProperty("id").GetString().ShouldBe("msg_013Zva2CMHLNnXjNJJKqJ2EF");
        completion.GetProperty("object").GetString().ShouldBe("chat.completion");
        completion.GetProperty("created").GetInt64().ShouldBe(Translate.Created);
        completion.GetProperty("model").GetString().ShouldBe("claude-sonnet-4-5-20250929");
        var choice = completion.GetProperty("choices")[0];
        choice.GetProperty("index").GetInt32().ShouldBe(0);
        choice.GetProperty("message").GetProperty("role").GetString().ShouldBe("assistant");
        choice.GetProperty("message").GetProperty("content").GetString().ShouldBe("Hi! My name is Claude.");
        choice.GetProperty("message").TryGetProperty("tool_calls", out _).ShouldBeFalse();
        choice.GetProperty("finish_reason").GetString().ShouldBe("stop");
        var usage = completion.GetProperty("usage");
        usage.GetProperty("prompt_tokens").GetInt32().ShouldBe(2095);
        usage.GetProperty("completion_tokens").GetInt32().ShouldBe(503);
        usage.GetProperty("total_tokens").GetInt32().ShouldBe(2598);
        usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32().ShouldBe(0);
    }

    [Fact]
    public void ToolUseBlocks_BecomeToolCalls_WithArgumentsAsAJsonString()
    {
        var completion = Run("""
            {"id":"msg_01Aq9w938a90dw8q","model":"claude-sonnet-4-5","stop_reason":"tool_use","role":"assistant","type":"message",
             "content":[
               {"type":"text","text":"I'll check the weather in both cities."},
               {"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA","unit":"celsius"}},
               {"type":"tool_use","id":"toolu_01B","name":"get_time","input":{}}],
             "usage":{"input_tokens":10,"output_tokens":20}}
            """);

        var message = completion.GetProperty("choices")[0].GetProperty("message");
        message.GetProperty("content").GetString().ShouldBe("I'll check the weather in both cities.");
        var calls = message.GetProperty("tool_calls");
        calls.GetArrayLength().ShouldBe(2);
        calls[0].GetProperty("id").GetString().ShouldBe("toolu_01A09q90qw90lq917835lq9");
        calls[0].GetProperty("type").GetString().ShouldBe("function");
        calls[0].GetProperty("function").GetProperty("name").GetString().ShouldBe("get_weather");
        var arguments = calls[0].GetProperty("function").GetProperty("arguments").GetString()!;
        Translate.Parse(arguments).GetProperty("unit").GetString().ShouldBe("celsius");
        calls[1].GetProperty("function").GetProperty("arguments").GetString().ShouldBe("{}");
        completion.GetProperty("choices")[0].GetProperty("finish_reason").GetString().ShouldBe("tool_calls");
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("pause_turn", "stop")]
    [InlineData("model_context_window_exceeded", "length")]
    public void StopReasons_MapToFinishReasons(string stopReason, string finishReason)
    {
        var completion = Run($$$"""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"x"}],"stop_reason":"{{{stopReason}}}","usage":{"input_tokens":1,"output_tokens":1}}
            """);

        completion.GetProperty("choices")[0].GetProperty("finish_reason").GetString().ShouldBe(finishReason);
    }

    [Fact]
    public void CacheReadsAndWrites_CountAsPromptTokens_AndReadsAreCachedTokens()
    {
        // Anthropic "Prompt caching": input_tokens counts only the tokens after the last cache breakpoint.
        var completion = Run("""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn",
             "usage":{"input_tokens":21,"cache_creation_input_tokens":188086,"cache_read_input_tokens":0,"output_tokens":393}}
            """);
        var cached = Run("""
            {"id":"msg_2","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn",
             "usage":{"input_tokens":21,"cache_creation_input_tokens":0,"cache_read_input_tokens":188086,"output_tokens":393}}
            """);

        completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32().ShouldBe(188107);
        completion.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32().ShouldBe(0);
        completion.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cache_creation_tokens").GetInt32().ShouldBe(188086);
        cached.GetProperty("usage").GetProperty("prompt_tokens").GetInt32().ShouldBe(188107);
        cached.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32().ShouldBe(188086);
    }

    [Fact]
    public void JsonMode_TheForcedToolsInputIsTheContent()
    {
        var completion = Run("""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude","stop_reason":"tool_use",
             "content":[{"type":"tool_use","id":"toolu_1","name":"person","input":{"name":"Ada","born":1815}}],
             "usage":{"input_tokens":1,"output_tokens":1}}
            """, new ChatTranslation(false, false, "person"));

        var choice = completion.GetProperty("choices")[0];
        choice.GetProperty("message").TryGetProperty("tool_calls", out _).ShouldBeFalse();
        Translate.Parse(choice.GetProperty("message").GetProperty("content").GetString()!).GetProperty("born").GetInt32().ShouldBe(1815);
        choice.GetProperty("finish_reason").GetString().ShouldBe("stop");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"type":"error","error":{"type":"api_error","message":"x"}}""")]
    [InlineData("""{"type":"message"}""")]
    public void NonMessages_AreRefused(string body)
    {
        MessagesToChatResponse.Translate(Encoding.UTF8.GetBytes(body), new ChatTranslation(false, false, null), 0, new ArrayBufferWriter<byte>()).ShouldBeFalse();
    }
}
