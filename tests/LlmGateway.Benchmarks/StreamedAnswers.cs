using System.Text;

namespace LlmGateway.Benchmarks;

/// <summary>
/// Streamed answers of 100 tokens as providers send them, one server-sent event per upstream write: OpenAI's chat
/// completion chunks (with <c>stream_options.include_usage</c>, so a final chunk with empty <c>choices</c> carries the
/// usage) and Anthropic's Messages events (usage in <c>message_start</c> and <c>message_delta</c>).
/// </summary>
internal static class StreamedAnswers
{
    public const int Tokens = 100;

    /// <summary>An answer's words, cycled to make up the tokens; one word (with its leading space) per delta.</summary>
    private static readonly string[] Words =
    [
        "Connection", " pooling", " keeps", " a", " set", " of", " open", " sockets", " to", " each", " upstream,", " so",
        " a", " request", " skips", " the", " TCP", " and", " TLS", " handshakes", " that", " would", " otherwise", " cost",
        " a", " round", " trip", " or", " two.", " Under", " load", " it", " also", " caps", " how", " many", " sockets",
        " the", " gateway", " holds,", " which", " protects", " the", " provider", " from", " bursts.", "\n\n", "In",
        " short:", " lower", " latency", " per", " call", " and", " steadier", " throughput", " when", " traffic", " spikes.",
    ];

    /// <summary>The events of an OpenAI chat completion stream, each framed as <c>data: …\n\n</c>.</summary>
    public static byte[][] OpenAiChat()
    {
        const string Prefix = """{"id":"chatcmpl-Cq7TnRk2bWv0LgA9sXe4JmYhPz3Fd","object":"chat.completion.chunk","created":1763740800,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_51db84afab","choices":""";
        var events = new List<byte[]>
        {
            Data(Prefix + """[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"""),
        };
        for (var i = 0; i < Tokens; i++)
        {
            events.Add(Data(Prefix + "[{\"index\":0,\"delta\":{\"content\":\"" + Escaped(Words[i % Words.Length]) + "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}"));
        }

        events.Add(Data(Prefix + """[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"""));
        events.Add(Data(Prefix + """[],"usage":{"prompt_tokens":412,"completion_tokens":100,"total_tokens":512,"prompt_tokens_details":{"cached_tokens":256,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"""));
        events.Add(Encoding.UTF8.GetBytes("data: [DONE]\n\n"));
        return [.. events];
    }

    /// <summary>The events of an Anthropic Messages stream, each framed as <c>event: …\ndata: …\n\n</c>.</summary>
    public static byte[][] AnthropicMessages()
    {
        var events = new List<byte[]>
        {
            Event("message_start", """{"type":"message_start","message":{"id":"msg_01HcQ7vXw3Nq8TzR5bLk2JmE","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":156,"cache_creation_input_tokens":0,"cache_read_input_tokens":256,"output_tokens":1}}}"""),
            Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            Event("ping", """{"type": "ping"}"""),
        };
        for (var i = 0; i < Tokens; i++)
        {
            events.Add(Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + Escaped(Words[i % Words.Length]) + "\"}}"));
        }

        events.Add(Event("content_block_stop", """{"type":"content_block_stop","index":0}"""));
        events.Add(Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":100}}"""));
        events.Add(Event("message_stop", """{"type":"message_stop"}"""));
        return [.. events];
    }

    /// <summary>The <c>data:</c> payload of an SSE-framed event (its only data line).</summary>
    public static ReadOnlyMemory<byte> DataOf(byte[] framedEvent)
    {
        var start = framedEvent.AsSpan().IndexOf("data: "u8) + 6;
        return framedEvent.AsMemory(start, framedEvent.Length - 2 - start);
    }

    /// <summary>The <c>event:</c> type of an SSE-framed event; empty when it has none.</summary>
    public static ReadOnlyMemory<byte> EventTypeOf(byte[] framedEvent)
    {
        if (!framedEvent.AsSpan().StartsWith("event: "u8))
        {
            return default;
        }

        var end = framedEvent.AsSpan().IndexOf((byte)'\n');
        return framedEvent.AsMemory(7, end - 7);
    }

    private static string Escaped(string word) => word.Replace("\n", "\\n", StringComparison.Ordinal);

    private static byte[] Data(string json) => Encoding.UTF8.GetBytes("data: " + json + "\n\n");

    private static byte[] Event(string type, string json) => Encoding.UTF8.GetBytes("event: " + type + "\ndata: " + json + "\n\n");
}
