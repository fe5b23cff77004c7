using System.Buffers;
using System.Text.Json;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Turns an OpenAI <c>chat.completion.chunk</c> stream into Anthropic Messages events (<c>message_start</c>,
/// <c>content_block_start</c> / <c>_delta</c> / <c>_stop</c>, <c>message_delta</c> with usage, <c>message_stop</c>),
/// for <c>/v1/messages</c> clients served by an OpenAI-shaped upstream. One instance per response.
/// </summary>
/// <remarks>
/// Text opens a text block; each tool call (a new OpenAI tool index) closes the open block and opens a
/// <c>tool_use</c> block whose argument fragments become <c>input_json_delta</c>s. Usage arrives in OpenAI's last
/// chunk, so <c>message_start</c> reports zero tokens and <c>message_delta</c> the real counts (Anthropic documents
/// <c>message_delta</c> usage as cumulative). A stream that ends without <c>[DONE]</c> or a finish reason ends
/// with an <c>error</c> event.
/// </remarks>
internal sealed class ChatToMessagesStream : IDisposable
{
    private const int NoBlock = -1;

    private readonly ServerSentEventParser _events = new();
    private readonly Utf8JsonWriter _json = new(Stream.Null, TranslationJson.WriterOptions);
    private bool _started;
    private int _blockCount;
    private int _openBlock = NoBlock;
    private int _openToolIndex = NoBlock;
    private string? _finishReason;
    private AnthropicUsage _usage;

    public bool Completed { get; private set; }

    public void Translate(ReadOnlySpan<byte> upstreamBytes, IBufferWriter<byte> output)
    {
        _events.Append(upstreamBytes);
        while (!Completed && _events.TryRead(out _, out var data))
        {
            if (data.SequenceEqual("[DONE]"u8))
            {
                Finish(output);
                return;
            }

            JsonDocument chunk;
            try
            {
                var reader = new Utf8JsonReader(data);
                chunk = JsonDocument.ParseValue(ref reader);
            }
            catch (JsonException)
            {
                continue;
            }

            using (chunk)
            {
                Handle(chunk.RootElement, output);
            }
        }
    }

    /// <summary>Call when the upstream body ended.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (Completed)
        {
            return;
        }

        if (_started && _finishReason is not null)
        {
            Finish(output);
        }
        else
        {
            WriteError(output, "api_error", "The provider's stream ended before the message was complete.");
        }
    }

    public void Dispose() => _json.Dispose();

    private void Handle(JsonElement chunk, IBufferWriter<byte> output)
    {
        if (TranslationJson.TryGet(chunk, "error"u8, JsonValueKind.Object, out var error))
        {
            var message = TranslationJson.GetString(error, "message"u8) ?? "The provider reported an error mid-stream.";
            var type = TranslationJson.GetString(error, "type"u8) == "rate_limit_exceeded" ? "rate_limit_error" : "api_error";
            WriteError(output, type, message);
            return;
        }

        if (!_started)
        {
            Start(chunk, output);
        }

        if (TranslationJson.TryGet(chunk, "usage"u8, JsonValueKind.Object, out var usage))
        {
            _usage = AnthropicUsage.FromOpenAi(usage);
        }

        if (!TranslationJson.TryGet(chunk, "choices"u8, JsonValueKind.Array, out var choices) || choices.GetArrayLength() == 0)
        {
            return;
        }

        var choice = choices[0];
        if (TranslationJson.TryGet(choice, "delta"u8, JsonValueKind.Object, out var delta))
        {
            if (TranslationJson.GetString(delta, "content"u8) is { Length: > 0 } text)
            {
                if (_openBlock == NoBlock || _openToolIndex != NoBlock)
                {
                    OpenBlock(output, toolIndex: NoBlock, id: null, name: null);
                }

                WriteBlockDelta(output, "text_delta"u8, "text"u8, text);
            }

            if (TranslationJson.TryGet(delta, "tool_calls"u8, JsonValueKind.Array, out var calls))
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var toolIndex = TranslationJson.TryGet(call, "index"u8, JsonValueKind.Number, out var indexValue) && indexValue.TryGetInt32(out var i) ? i : 0;
                    TranslationJson.TryGet(call, "function"u8, JsonValueKind.Object, out var function);
                    if (toolIndex != _openToolIndex)
                    {
                        OpenBlock(output, toolIndex, TranslationJson.GetString(call, "id"u8) ?? "", TranslationJson.GetString(function, "name"u8) ?? "");
                    }

                    if (TranslationJson.GetString(function, "arguments"u8) is { Length: > 0 } arguments)
                    {
                        WriteBlockDelta(output, "input_json_delta"u8, "partial_json"u8, arguments);
                    }
                }
            }
        }

        if (TranslationJson.GetString(choice, "finish_reason"u8) is { } finishReason)
        {
            _finishReason = finishReason;
        }
    }

    private void Start(JsonElement chunk, IBufferWriter<byte> output)
    {
        _started = true;
        var json = TranslationJson.BeginEvent(output, _json, "message_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_start");
        json.WriteStartObject("message"u8);
        json.WriteString("id"u8, TranslationJson.GetString(chunk, "id"u8) ?? "");
        json.WriteString("type"u8, "message");
        json.WriteString("role"u8, "assistant");
        json.WriteString("model"u8, TranslationJson.GetString(chunk, "model"u8) ?? "");
        json.WriteStartArray("content"u8);
        json.WriteEndArray();
        json.WriteNull("stop_reason"u8);
        json.WriteNull("stop_sequence"u8);
        default(AnthropicUsage).WriteAnthropic(json);
        json.WriteEndObject();
        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);
    }

    private void OpenBlock(IBufferWriter<byte> output, int toolIndex, string? id, string? name)
    {
        CloseBlock(output);
        _openBlock = _blockCount++;
        _openToolIndex = toolIndex;
        var json = TranslationJson.BeginEvent(output, _json, "content_block_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_start");
        json.WriteNumber("index"u8, _openBlock);
        json.WriteStartObject("content_block"u8);
        if (toolIndex == NoBlock)
        {
            json.WriteString("type"u8, "text");
            json.WriteString("text"u8, ""u8);
        }
        else
        {
            json.WriteString("type"u8, "tool_use");
            json.WriteString("id"u8, id);
            json.WriteString("name"u8, name);
            json.WriteStartObject("input"u8);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);
    }

    private void WriteBlockDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> deltaType, ReadOnlySpan<byte> field, string value)
    {
        var json = TranslationJson.BeginEvent(output, _json, "content_block_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_delta");
        json.WriteNumber("index"u8, _openBlock);
        json.WriteStartObject("delta"u8);
        json.WriteString("type"u8, deltaType);
        json.WriteString(field, value);
        json.WriteEndObject();
        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);
    }

    private void CloseBlock(IBufferWriter<byte> output)
    {
        if (_openBlock == NoBlock)
        {
            return;
        }

        var json = TranslationJson.BeginEvent(output, _json, "content_block_stop"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_stop");
        json.WriteNumber("index"u8, _openBlock);
        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);
        _openBlock = NoBlock;
        _openToolIndex = NoBlock;
    }

    private void Finish(IBufferWriter<byte> output)
    {
        if (!_started)
        {
            WriteError(output, "api_error", "The provider's stream ended before the message started.");
            return;
        }

        CloseBlock(output);
        var json = TranslationJson.BeginEvent(output, _json, "message_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_delta");
        json.WriteStartObject("delta"u8);
        json.WriteString("stop_reason"u8, AnthropicStopReasons.ToStopReason(_finishReason));
        json.WriteNull("stop_sequence"u8);
        json.WriteEndObject();
        _usage.WriteAnthropic(json);
        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);

        json = TranslationJson.BeginEvent(output, _json, "message_stop"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_stop");
        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);
        Completed = true;
    }

    private void WriteError(IBufferWriter<byte> output, string type, string message)
    {
        var json = TranslationJson.BeginEvent(output, _json, "error"u8);
        AnthropicErrors.WriteAnthropicError(json, type, message);
        TranslationJson.EndEvent(output, json);
        Completed = true;
    }
}
