using System.Text.Json;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>
/// OpenAI chat request → Anthropic Messages request. Inputs follow OpenAI's "Create chat completion" reference
/// (messages with system/developer/user/assistant/tool roles, content parts, tools, tool_choice, response_format);
/// expected outputs follow Anthropic's Messages reference ("system", alternating turns, image sources, tool_use and
/// tool_result blocks, tool_choice types auto/any/tool/none).
/// </summary>
public sealed class ChatToMessagesRequestTests
{
    [Fact]
    public void SystemAndDeveloperMessages_BecomeTheTopLevelSystem_InOrder()
    {
        var result = Translate.ChatToMessages("""
            {"model":"claude","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
              {"role":"user","content":"Hello"}]}
            """, out _);

        var system = result.GetProperty("system");
        system.GetArrayLength().ShouldBe(2);
        system[0].GetProperty("text").GetString().ShouldBe("You are terse.");
        system[1].GetProperty("text").GetString().ShouldBe("Answer in French.");
        result.GetProperty("messages").GetArrayLength().ShouldBe(1);
        result.GetProperty("messages")[0].GetProperty("role").GetString().ShouldBe("user");
        result.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString().ShouldBe("Hello");
    }

    [Fact]
    public void ConsecutiveTurnsOfOneRole_AreMergedIntoOne_AsAnthropicRequiresAlternation()
    {
        var result = Translate.ChatToMessages("""
            {"model":"claude","messages":[
              {"role":"user","content":"First"},
              {"role":"user","content":"Second"},
              {"role":"assistant","content":"Reply"},
              {"role":"assistant","content":""},
              {"role":"user","content":"Third"}]}
            """, out _);

        var messages = result.GetProperty("messages");
        messages.GetArrayLength().ShouldBe(3);
        messages[0].GetProperty("role").GetString().ShouldBe("user");
        messages[0].GetProperty("content").GetArrayLength().ShouldBe(2);
        messages[0].GetProperty("content")[1].GetProperty("text").GetString().ShouldBe("Second");
        messages[1].GetProperty("role").GetString().ShouldBe("assistant");
        messages[1].GetProperty("content").GetArrayLength().ShouldBe(1, "an empty assistant turn adds no block");
        messages[2].GetProperty("content")[0].GetProperty("text").GetString().ShouldBe("Third");
    }

    [Fact]
    public void Images_DataUrlsBecomeBase64Sources_HttpUrlsBecomeUrlSources()
    {
        var result = Translate.ChatToMessages("""
            {"model":"claude","messages":[{"role":"user","content":[
              {"type":"text","text":"What is in these images?"},
              {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRg==","detail":"high"}},
              {"type":"image_url","image_url":{"url":"https://upload.example.org/ant.jpg"}}]}]}
            """, out _);

        var content = result.GetProperty("messages")[0].GetProperty("content");
        content[0].GetProperty("type").GetString().ShouldBe("text");
        var base64 = content[1].GetProperty("source");
        content[1].GetProperty("type").GetString().ShouldBe("image");
        base64.GetProperty("type").GetString().ShouldBe("base64");
        base64.GetProperty("media_type").GetString().ShouldBe("image/jpeg");
        base64.GetProperty("data").GetString().ShouldBe("/9j/4AAQSkZJRg==");
        var url = content[2].GetProperty("source");
        url.GetProperty("type").GetString().ShouldBe("url");
        url.GetProperty("url").GetString().ShouldBe("https://upload.example.org/ant.jpg");
    }

    [Fact]
    public void ParallelToolCallsAndTheirResults_BecomeToolUseBlocks_AndToolResultBlocksInOneUserTurn()
    {
        var result = Translate.ChatToMessages("""
            {"model":"claude","messages":[
              {"role":"user","content":"Weather in Paris and Tokyo?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},
                {"id":"toolu_01B","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Tokyo\"}"}}]},
              {"role":"tool","tool_call_id":"toolu_01A","content":"15 degrees"},
              {"role":"tool","tool_call_id":"toolu_01B","content":[{"type":"text","text":"22 degrees"}]},
              {"role":"user","content":"Which is warmer?"}]}
            """, out _);

        var messages = result.GetProperty("messages");
        messages.GetArrayLength().ShouldBe(3);
        var calls = messages[1].GetProperty("content");
        calls.GetArrayLength().ShouldBe(2);
        calls[0].GetProperty("type").GetString().ShouldBe("tool_use");
        calls[0].GetProperty("id").GetString().ShouldBe("toolu_01A");
        calls[0].GetProperty("name").GetString().ShouldBe("get_weather");
        calls[0].GetProperty("input").GetProperty("location").GetString().ShouldBe("Paris");
        calls[1].GetProperty("input").GetProperty("location").GetString().ShouldBe("Tokyo");

        var results = messages[2];
        results.GetProperty("role").GetString().ShouldBe("user");
        var blocks = results.GetProperty("content");
        blocks.GetArrayLength().ShouldBe(3, "both results and the follow-up question share one user turn, results first");
        blocks[0].GetProperty("type").GetString().ShouldBe("tool_result");
        blocks[0].GetProperty("tool_use_id").GetString().ShouldBe("toolu_01A");
        blocks[0].GetProperty("content").GetString().ShouldBe("15 degrees");
        blocks[1].GetProperty("tool_use_id").GetString().ShouldBe("toolu_01B");
        blocks[1].GetProperty("content")[0].GetProperty("text").GetString().ShouldBe("22 degrees");
        blocks[2].GetProperty("type").GetString().ShouldBe("text");
    }

    [Fact]
    public void Tools_BecomeInputSchemas_AndToolChoiceMaps()
    {
        var result = Translate.ChatToMessages("""
            {"model":"claude","messages":[{"role":"user","content":"Weather?"}],
             "tools":[
               {"type":"function","function":{"name":"get_weather","description":"Get the current weather",
                 "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]},"strict":true}},
               {"type":"function","function":{"name":"get_time"}}],
             "tool_choice":"required","parallel_tool_calls":false}
            """, out _);

        var tools = result.GetProperty("tools");
        tools[0].GetProperty("name").GetString().ShouldBe("get_weather");
        tools[0].GetProperty("description").GetString().ShouldBe("Get the current weather");
        tools[0].GetProperty("input_schema").GetProperty("required")[0].GetString().ShouldBe("location");
        tools[0].TryGetProperty("strict", out _).ShouldBeFalse();
        tools[1].GetProperty("input_schema").GetProperty("type").GetString().ShouldBe("object");
        var choice = result.GetProperty("tool_choice");
        choice.GetProperty("type").GetString().ShouldBe("any");
        choice.GetProperty("disable_parallel_tool_use").GetBoolean().ShouldBeTrue();
    }

    [Theory]
    [InlineData("\"auto\"", "auto", null)]
    [InlineData("\"none\"", "none", null)]
    [InlineData("\"required\"", "any", null)]
    [InlineData("""{"type":"function","function":{"name":"get_weather"}}""", "tool", "get_weather")]
    public void ToolChoice_MapsToAnthropicTypes(string openAiChoice, string type, string? name)
    {
        var result = Translate.ChatToMessages($$$"""
            {"model":"claude","messages":[{"role":"user","content":"Hi"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"} } }],"tool_choice":{{{openAiChoice}}}}
            """, out _);

        result.GetProperty("tool_choice").GetProperty("type").GetString().ShouldBe(type);
        if (name is null)
        {
            result.GetProperty("tool_choice").TryGetProperty("name", out _).ShouldBeFalse();
        }
        else
        {
            result.GetProperty("tool_choice").GetProperty("name").GetString().ShouldBe(name);
        }
    }

    [Fact]
    public void SamplingFieldsUserAndStream_Map_AndMaxTokensDefaultsWhenAbsent()
    {
        var result = Translate.ChatToMessages("""
            {"model":"gpt","messages":[{"role":"user","content":"Hi"}],"temperature":0.2,"top_p":0.9,"stop":"END",
             "user":"user-42","stream":true,"stream_options":{"include_usage":true},"seed":7,"presence_penalty":1}
            """, out var translation, model: "claude-opus-4");

        result.GetProperty("model").GetString().ShouldBe("claude-opus-4");
        result.GetProperty("max_tokens").GetInt32().ShouldBe(4096);
        result.GetProperty("temperature").GetDouble().ShouldBe(0.2);
        result.GetProperty("top_p").GetDouble().ShouldBe(0.9);
        result.GetProperty("stop_sequences")[0].GetString().ShouldBe("END");
        result.GetProperty("metadata").GetProperty("user_id").GetString().ShouldBe("user-42");
        result.GetProperty("stream").GetBoolean().ShouldBeTrue();
        result.TryGetProperty("seed", out _).ShouldBeFalse();
        result.TryGetProperty("presence_penalty", out _).ShouldBeFalse();
        translation.Stream.ShouldBeTrue();
        translation.IncludeUsage.ShouldBeTrue();
    }

    [Fact]
    public void MaxTokens_TakesTheSmallerOfMaxCompletionTokensAndMaxTokens()
    {
        var result = Translate.ChatToMessages("""
            {"model":"gpt","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":300,"max_tokens":500,"stop":["a","b"]}
            """, out var translation);

        result.GetProperty("max_tokens").GetInt32().ShouldBe(300);
        result.GetProperty("stop_sequences").GetArrayLength().ShouldBe(2);
        result.TryGetProperty("stream", out _).ShouldBeFalse();
        translation.Stream.ShouldBeFalse();
    }

    [Fact]
    public void JsonObjectMode_IsEmulatedWithAForcedTool()
    {
        var result = Translate.ChatToMessages("""
            {"model":"gpt","messages":[{"role":"user","content":"List three colours as JSON."}],"response_format":{"type":"json_object"}}
            """, out var translation);

        translation.JsonResponseTool.ShouldBe("json_object");
        result.GetProperty("tools")[0].GetProperty("name").GetString().ShouldBe("json_object");
        result.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("type").GetString().ShouldBe("object");
        result.GetProperty("tool_choice").GetProperty("type").GetString().ShouldBe("tool");
        result.GetProperty("tool_choice").GetProperty("name").GetString().ShouldBe("json_object");
    }

    [Fact]
    public void JsonSchemaMode_ForcesATool_WithTheSchemaAsInputSchema()
    {
        var result = Translate.ChatToMessages("""
            {"model":"gpt","messages":[{"role":"user","content":"Extract."}],
             "response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,
               "schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}}
            """, out var translation);

        translation.JsonResponseTool.ShouldBe("person");
        result.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("required")[0].GetString().ShouldBe("name");
        result.GetProperty("tool_choice").GetProperty("name").GetString().ShouldBe("person");
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[]}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}""", "n")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"tools":[{"type":"function","function":{"name":"f"}}]}""", "response_format")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"not json"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}""", "messages[0].content[0].image_url.url")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"model":"m","messages":[{"role":"function","content":"x"}]}""", "messages[0].role")]
    public void UntranslatableRequests_AreRejectedWith400_NamingTheParameter(string request, string param)
    {
        var error = Translate.ChatToMessagesError(request, out _, out _);

        error.ShouldNotBeNull();
        error.StatusCode.ShouldBe(400);
        error.Param.ShouldBe(param);
    }

    [Fact]
    public void TextPartCacheControl_IsKept_ForPromptCaching()
    {
        var result = Translate.ChatToMessages("""
            {"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"Long manual","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":"Q"}]}
            """, out _);

        result.GetProperty("system")[0].GetProperty("cache_control").GetProperty("type").GetString().ShouldBe("ephemeral");
    }

    [Fact]
    public void NonAsciiText_SurvivesUnescaped()
    {
        var result = Translate.ChatToMessages("""{"model":"m","messages":[{"role":"user","content":"Grüße \u2603 \"quoted\" 日本"}]}""", out _);

        result.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString().ShouldBe("Grüße ☃ \"quoted\" 日本");
    }
}
