using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Providers.Anthropic;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>Anthropic stream events → OpenAI chat.completion.chunk events.</summary>
public sealed class MessagesToChatStreamTests
{
    private static string Run(string anthropicStream, ChatTranslation translation, IReadOnlyList<int>? cuts = null)
    {
        using var stream = new MessagesToChatStream(translation, Translate.Created);
        return Translate.Feed(Encoding.UTF8.GetBytes(anthropicStream), cuts ?? [], stream.Translate, stream.Complete);
    }

    [Fact]
    public void TextAndParallelToolCalls_BecomeOpenAiChunks_WithToolIndexes_FinishAndUsage()
    {
        var output = Run(RecordedStreams.AnthropicTextAndParallelTools, new ChatTranslation(true, IncludeUsage: true, null));

        var events = Translate.Events(output);
        events[^1].Data.ShouldBe("[DONE]");
        var chunks = events.Take(events.Count - 1).Select(e => Translate.Parse(e.Data)).ToList();
        chunks.ShouldAllBe(c => c.GetProperty("object").GetString() == "chat.completion.chunk");
        chunks.ShouldAllBe(c => c.GetProperty("id").GetString() == "msg_014p7gG3wDgGV9EUtLvnow3U");
        chunks.ShouldAllBe(c => c.GetProperty("model").GetString() == "claude-sonnet-4-5-20250929");
        chunks.ShouldAllBe(c => c.GetProperty("created").GetInt64() == Translate.Created);

        var first = chunks[0].GetProperty("choices")[0].GetProperty("delta");
        first.GetProperty("role").GetString().ShouldBe("assistant");

        var deltas = chunks.Where(c => c.GetProperty("choices").GetArrayLength() == 1).Select(c => c.GetProperty("choices")[0]).ToList();
        string.Concat(deltas.Select(d => d.GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : ""))
            .ShouldBe("Okay, let's check the weather — \"both\" cities \u2603:");

        var toolDeltas = deltas.Where(d => d.GetProperty("delta").TryGetProperty("tool_calls", out _))
            .Select(d => d.GetProperty("delta").GetProperty("tool_calls")[0]).ToList();
        var opening = toolDeltas.Where(t => t.TryGetProperty("id", out _)).ToList();
        opening.Count.ShouldBe(2);
        opening[0].GetProperty("index").GetInt32().ShouldBe(0);
        opening[0].GetProperty("id").GetString().ShouldBe("toolu_01T1x1fJ34qAmk2tNTrN7Up6");
        opening[0].GetProperty("type").GetString().ShouldBe("function");
        opening[0].GetProperty("function").GetProperty("name").GetString().ShouldBe("get_weather");
        opening[1].GetProperty("index").GetInt32().ShouldBe(1, "OpenAI numbers tool calls, not content blocks");
        opening[1].GetProperty("function").GetProperty("name").GetString().ShouldBe("get_time");
        string.Concat(toolDeltas.Where(t => t.GetProperty("index").GetInt32() == 0).Select(t => t.GetProperty("function").GetProperty("arguments").GetString()))
            .ShouldBe("{\"location\": \"San Francisco, CA\"}");
        string.Concat(toolDeltas.Where(t => t.GetProperty("index").GetInt32() == 1).Select(t => t.GetProperty("function").GetProperty("arguments").GetString()))
            .ShouldBe("{\"timezone\": \"PST\"}");

        var finish = deltas[^1];
        finish.GetProperty("finish_reason").GetString().ShouldBe("tool_calls");
        deltas.Take(deltas.Count - 1).ShouldAllBe(d => d.GetProperty("finish_reason").ValueKind == JsonValueKind.Null);

        var usageChunk = chunks[^1];
        usageChunk.GetProperty("choices").GetArrayLength().ShouldBe(0);
        var usage = usageChunk.GetProperty("usage");
        usage.GetProperty("prompt_tokens").GetInt32().ShouldBe(472 + 2000 + 100);
        usage.GetProperty("completion_tokens").GetInt32().ShouldBe(89);
        usage.GetProperty("total_tokens").GetInt32().ShouldBe(472 + 2000 + 100 + 89);
        usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32().ShouldBe(2000);
        usage.GetProperty("prompt_tokens_details").GetProperty("cache_creation_tokens").GetInt32().ShouldBe(100);
    }

    [Fact]
    public void EverySplitPoint_ProducesExactlyTheSameOutput_AsOneRead()
    {
        var translation = new ChatTranslation(true, true, null);
        var whole = Run(RecordedStreams.AnthropicTextAndParallelTools, translation);
        var length = Encoding.UTF8.GetByteCount(RecordedStreams.AnthropicTextAndParallelTools);

        for (var cut = 1; cut < length; cut++)
        {
            Run(RecordedStreams.AnthropicTextAndParallelTools, translation, [cut]).ShouldBe(whole, $"split at byte {cut}");
        }

        Run(RecordedStreams.AnthropicTextAndParallelTools, translation, Enumerable.Range(1, length - 1).ToArray()).ShouldBe(whole, "one byte per read");
    }

    [Fact]
    public void WithoutIncludeUsage_ThereIsNoUsageChunk()
    {
        var events = Translate.Events(Run(RecordedStreams.AnthropicTextAndParallelTools, new ChatTranslation(true, IncludeUsage: false, null)));

        events[^1].Data.ShouldBe("[DONE]");
        events.Take(events.Count - 1).ShouldAllBe(e => !e.Data.Contains("\"usage\""));
    }

    [Fact]
    public void ThinkingBlocksAndUnknownEvents_AreSkipped_AndMaxTokensBecomesLength()
    {
        var events = Translate.Events(Run(RecordedStreams.AnthropicThinkingThenText, new ChatTranslation(true, true, null)));

        var chunks = events.Take(events.Count - 1).Select(e => Translate.Parse(e.Data)).ToList();
        var deltas = chunks.Where(c => c.GetProperty("choices").GetArrayLength() == 1).Select(c => c.GetProperty("choices")[0]).ToList();
        string.Concat(deltas.Select(d => d.GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : "")).ShouldBe("Hello!");
        deltas[^1].GetProperty("finish_reason").GetString().ShouldBe("length");
        chunks[^1].GetProperty("usage").GetProperty("prompt_tokens").GetInt32().ShouldBe(25);
        chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32().ShouldBe(15);
    }

    [Fact]
    public void AnErrorEvent_BecomesAnOpenAiErrorEvent_AndEndsTheStreamWithoutDone()
    {
        using var stream = new MessagesToChatStream(new ChatTranslation(true, true, null), Translate.Created);
        var output = Translate.Feed(Encoding.UTF8.GetBytes(RecordedStreams.AnthropicOverloadedMidStream), [], stream.Translate, stream.Complete);

        stream.Completed.ShouldBeTrue();
        var events = Translate.Events(output);
        events.ShouldNotContain(e => e.Data == "[DONE]");
        var error = Translate.Parse(events[^1].Data).GetProperty("error");
        error.GetProperty("message").GetString().ShouldBe("Overloaded");
        error.GetProperty("type").GetString().ShouldBe("server_error");
        error.GetProperty("code").GetString().ShouldBe("overloaded");
    }

    [Fact]
    public void AStreamCutBeforeMessageStop_EndsWithAnError_NotAFinishChunk()
    {
        var cut = RecordedStreams.AnthropicTextAndParallelTools[..RecordedStreams.AnthropicTextAndParallelTools.IndexOf("event: message_delta", StringComparison.Ordinal)];

        var events = Translate.Events(Run(cut, new ChatTranslation(true, true, null)));

        events.ShouldNotContain(e => e.Data == "[DONE]");
        events.ShouldNotContain(e => e.Data.Contains("\"finish_reason\":\"tool_calls\""));
        Translate.Parse(events[^1].Data).GetProperty("error").GetProperty("code").GetString().ShouldBe("upstream_error");
    }

    [Fact]
    public void JsonMode_TheForcedToolsInputStreamsAsContent_AndFinishesWithStop()
    {
        const string stream =
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_j\",\"model\":\"claude\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n" +
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_j\",\"name\":\"json_object\",\"input\":{}}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"colours\\\": [\\\"red\\\",\"}}\n\n" +
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\" \\\"blue\\\"]}\"}}\n\n" +
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":12}}\n\n" +
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

        var events = Translate.Events(Run(stream, new ChatTranslation(true, false, ChatTranslation.JsonObjectTool)));

        var choices = events.Take(events.Count - 1).Select(e => Translate.Parse(e.Data).GetProperty("choices")[0]).ToList();
        choices.ShouldNotContain(c => c.GetProperty("delta").ToString().Contains("tool_calls"));
        var content = string.Concat(choices.Select(c => c.GetProperty("delta").TryGetProperty("content", out var text) ? text.GetString() : ""));
        Translate.Parse(content).GetProperty("colours")[1].GetString().ShouldBe("blue");
        choices[^1].GetProperty("finish_reason").GetString().ShouldBe("stop");
    }

    [Fact]
    public void UsageSoFar_IsExposed_ForMetering()
    {
        using var stream = new MessagesToChatStream(new ChatTranslation(true, false, null), Translate.Created);
        stream.Translate(Encoding.UTF8.GetBytes(RecordedStreams.AnthropicTextAndParallelTools), new ArrayBufferWriter<byte>());

        stream.Completed.ShouldBeTrue();
        stream.Usage.PromptTokens.ShouldBe(2572);
        stream.Usage.OutputTokens.ShouldBe(89);
    }
}
