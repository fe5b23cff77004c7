using System.Text.Json;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>
/// Anthropic Messages request (inbound <c>/v1/messages</c>) → OpenAI chat request. Inputs follow Anthropic's Messages
/// reference and "Tool use" guide: string or block system, text/image/tool_use/tool_result blocks, tools with
/// input_schema, tool_choice {type: auto|any|tool|none}.
/// </summary>
public sealed class MessagesToChatRequestTests
{
    [Fact]
    public void SystemMessagesAndSampling_Map()
    {
        var result = Translate.MessagesToChat("""
            {"model":"claude-sonnet-4-5","max_tokens":1024,"system":[{"type":"text","text":"You are a pirate."}],
             "messages":[{"role":"user","content":"Hello, Claude"},{"role":"assistant","content":"Ahoy!"},{"role":"user","content":[{"type":"text","text":"Where is the treasure?"}]}],
             "temperature":0.5,"top_p":0.8,"top_k":40,"stop_sequences":["ARR"],"metadata":{"user_id":"u-1"},"stream":true}
            """, out var stream);

        stream.ShouldBeTrue();
        result.GetProperty("model").GetString().ShouldBe("gpt-4o");
        var messages = result.GetProperty("messages");
        messages[0].GetProperty("role").GetString().ShouldBe("system");
        messages[0].GetProperty("content").GetString().ShouldBe("You are a pirate.");
        messages[1].GetProperty("content").GetString().ShouldBe("Hello, Claude");
        messages[2].GetProperty("role").GetString().ShouldBe("assistant");
        messages[2].GetProperty("content").GetString().ShouldBe("Ahoy!");
        messages[3].GetProperty("content")[0].GetProperty("text").GetString().ShouldBe("Where is the treasure?");
        result.GetProperty("max_completion_tokens").GetInt32().ShouldBe(1024);
        result.GetProperty("temperature").GetDouble().ShouldBe(0.5);
        result.GetProperty("top_p").GetDouble().ShouldBe(0.8);
        result.TryGetProperty("top_k", out _).ShouldBeFalse();
        result.GetProperty("stop")[0].GetString().ShouldBe("ARR");
        result.GetProperty("user").GetString().ShouldBe("u-1");
        result.GetProperty("stream").GetBoolean().ShouldBeTrue();
        result.GetProperty("stream_options").GetProperty("include_usage").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public void MaxTokens_CanBeSentAsTheLegacyField_ForCompatibleServers()
    {
        var result = Translate.MessagesToChat("""{"model":"m","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}""", out _, useMaxCompletionTokens: false);

        result.GetProperty("max_tokens").GetInt32().ShouldBe(64);
        result.TryGetProperty("max_completion_tokens", out _).ShouldBeFalse();
    }

    [Fact]
    public void ToolUseAndToolResults_BecomeToolCallsAndToolMessages_InOpenAiOrder()
    {
        var result = Translate.MessagesToChat("""
            {"model":"m","max_tokens":100,
             "tools":[{"name":"get_weather","description":"Get the current weather in a given location",
                       "input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}],
             "tool_choice":{"type":"any","disable_parallel_tool_use":true},
             "messages":[
               {"role":"user","content":"What's the weather like in San Francisco?"},
               {"role":"assistant","content":[
                 {"type":"text","text":"I'll check."},
                 {"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA"}}]},
               {"role":"user","content":[
                 {"type":"tool_result","tool_use_id":"toolu_01A09q90qw90lq917835lq9","content":"15 degrees"},
                 {"type":"text","text":"And tomorrow?"}]}]}
            """, out _);

        var messages = result.GetProperty("messages");
        messages.GetArrayLength().ShouldBe(4);
        var assistant = messages[1];
        assistant.GetProperty("content").GetString().ShouldBe("I'll check.");
        var call = assistant.GetProperty("tool_calls")[0];
        call.GetProperty("id").GetString().ShouldBe("toolu_01A09q90qw90lq917835lq9");
        call.GetProperty("type").GetString().ShouldBe("function");
        call.GetProperty("function").GetProperty("name").GetString().ShouldBe("get_weather");
        Translate.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!).GetProperty("location").GetString().ShouldBe("San Francisco, CA");
        messages[2].GetProperty("role").GetString().ShouldBe("tool");
        messages[2].GetProperty("tool_call_id").GetString().ShouldBe("toolu_01A09q90qw90lq917835lq9");
        messages[2].GetProperty("content").GetString().ShouldBe("15 degrees");
        messages[3].GetProperty("role").GetString().ShouldBe("user");
        messages[3].GetProperty("content")[0].GetProperty("text").GetString().ShouldBe("And tomorrow?");

        var tool = result.GetProperty("tools")[0];
        tool.GetProperty("type").GetString().ShouldBe("function");
        tool.GetProperty("function").GetProperty("name").GetString().ShouldBe("get_weather");
        tool.GetProperty("function").GetProperty("parameters").GetProperty("required")[0].GetString().ShouldBe("location");
        result.GetProperty("tool_choice").GetString().ShouldBe("required");
        result.GetProperty("parallel_tool_calls").GetBoolean().ShouldBeFalse();
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"")]
    [InlineData("""{"type":"none"}""", "\"none\"")]
    [InlineData("""{"type":"any"}""", "\"required\"")]
    [InlineData("""{"type":"tool","name":"get_weather"}""", """{"type":"function","function":{"name":"get_weather"}}""")]
    public void ToolChoice_Maps(string anthropicChoice, string openAiChoice)
    {
        var result = Translate.MessagesToChat($$$"""
            {"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
             "tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"tool_choice":{{{anthropicChoice}}}}
            """, out _);

        JsonSerializer.Serialize(result.GetProperty("tool_choice")).ShouldBe(openAiChoice);
    }

    [Fact]
    public void Images_BecomeImageUrlParts()
    {
        var result = Translate.MessagesToChat("""
            {"model":"m","max_tokens":1,"messages":[{"role":"user","content":[
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
              {"type":"image","source":{"type":"url","url":"https://example.org/cat.jpg"}},
              {"type":"text","text":"Describe both."}]}]}
            """, out _);

        var parts = result.GetProperty("messages")[0].GetProperty("content");
        parts[0].GetProperty("image_url").GetProperty("url").GetString().ShouldBe("data:image/png;base64,iVBORw0KGgo=");
        parts[1].GetProperty("image_url").GetProperty("url").GetString().ShouldBe("https://example.org/cat.jpg");
        parts[2].GetProperty("text").GetString().ShouldBe("Describe both.");
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]}]}""", "messages[0].content[0]")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}""", "tools[0]")]
    [InlineData("""{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}""", "messages[0].role")]
    public void UntranslatableRequests_AreRejectedWith400(string request, string param)
    {
        var error = Translate.MessagesToChatError(request, out _, out _);

        error.ShouldNotBeNull();
        error.StatusCode.ShouldBe(400);
        error.Param.ShouldBe(param);
    }
}
