using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Turns an Anthropic Messages event stream into OpenAI <c>chat.completion.chunk</c> events as bytes arrive: one
/// instance per response, fed with whatever each network read returned.
/// </summary>
/// <remarks>
/// <para>
/// <c>message_start</c> opens with the assistant role; text deltas become <c>content</c> deltas; each
/// <c>tool_use</c> block becomes a tool call numbered in order of appearance (OpenAI's <c>index</c> counts tool calls,
/// Anthropic's counts content blocks), its <c>input_json_delta</c> fragments the call's <c>arguments</c>;
/// <c>message_stop</c> sends the finish chunk, the usage chunk when the client asked for it, and <c>data: [DONE]</c>.
/// Thinking blocks, <c>ping</c> and unknown events (Anthropic may add event types) are skipped.
/// </para>
/// <para>
/// An <c>error</c> event becomes OpenAI's in-stream error <c>data: {"error":{...}}</c> and ends the stream without
/// <c>[DONE]</c>, so clients see it failed rather than a short answer.
/// </para>
/// </remarks>
internal sealed class MessagesToChatStream(ChatTranslation translation, long createdUnixSeconds) : IDisposable
{
    private const int NotATool = -1;
    private const int JsonAnswerBlock = -2;

    private readonly ServerSentEventParser _events = new();
    private readonly byte[]? _jsonTool = translation.JsonResponseTool is { } tool ? Encoding.UTF8.GetBytes(tool) : null;
    private readonly Utf8JsonWriter _json = new(Stream.Null, TranslationJson.WriterOptions);
    private byte[] _scratch = new byte[1024];
    private int[] _toolIndexByBlock = new int[4];
    private int _toolCount;
    private byte[] _id = [];
    private byte[] _model = [];
    private AnthropicUsage _usage;
    private string? _finishReason;

    /// <summary>Whether the stream reached its end (<c>message_stop</c> or an error event).</summary>
    public bool Completed { get; private set; }

    /// <summary>The usage so far: final once <see cref="Completed"/>.</summary>
    public AnthropicUsage Usage => _usage;

    /// <summary>Translates the events completed by <paramref name="upstreamBytes"/> into <paramref name="output"/>.</summary>
    public void Translate(ReadOnlySpan<byte> upstreamBytes, IBufferWriter<byte> output)
    {
        _events.Append(upstreamBytes);
        while (!Completed && _events.TryRead(out _, out var data))
        {
            if (_scratch.Length < data.Length)
            {
                _scratch = new byte[Math.Max(data.Length, _scratch.Length * 2)];
            }

            if (AnthropicStreamEvent.TryParse(data, _scratch, _usage, out var streamEvent))
            {
                Handle(ref streamEvent, output);
            }
        }
    }

    /// <summary>
    /// Call when the upstream body ended. A stream cut before <c>message_stop</c> ends with an error event instead of
    /// a finish chunk, so the client cannot mistake a truncated answer for a complete one.
    /// </summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (!Completed)
        {
            WriteError(output, "server_error", "upstream_error", "The provider's stream ended before the message was complete.");
        }
    }

    private void Handle(ref AnthropicStreamEvent e, IBufferWriter<byte> output)
    {
        switch (e.Type)
        {
            case AnthropicEventType.MessageStart:
                _id = Span(e.Id).ToArray();
                _model = Span(e.Model).ToArray();
                _usage = e.Usage;
                WriteDelta(output, static json =>
                {
                    json.WriteString("role"u8, "assistant");
                    json.WriteString("content"u8, ""u8);
                });
                break;
            case AnthropicEventType.ContentBlockStart:
                StartBlock(ref e, output);
                break;
            case AnthropicEventType.ContentBlockDelta:
                WriteBlockDelta(ref e, output);
                break;
            case AnthropicEventType.MessageDelta:
                if (!Span(e.StopReason).IsEmpty)
                {
                    _finishReason = AnthropicStopReasons.ToFinishReason(Span(e.StopReason), translation.JsonResponseTool is not null);
                }

                if (e.HasUsage)
                {
                    _usage = e.Usage;
                }

                break;
            case AnthropicEventType.MessageStop:
                Finish(output);
                break;
            case AnthropicEventType.Error:
                var error = AnthropicErrors.ToOpenAi(0, Encoding.UTF8.GetString(Span(e.ErrorType)), Encoding.UTF8.GetString(Span(e.ErrorMessage)));
                WriteError(output, error.Type, error.Code, error.Message);
                break;
        }
    }

    private void StartBlock(ref AnthropicStreamEvent e, IBufferWriter<byte> output)
    {
        if (e.Index < 0 || e.Index > 4096)
        {
            return;
        }

        if (_toolIndexByBlock.Length <= e.Index)
        {
            Array.Resize(ref _toolIndexByBlock, Math.Max(e.Index + 1, _toolIndexByBlock.Length * 2));
        }

        _toolIndexByBlock[e.Index] = NotATool;
        if (Span(e.BlockType).SequenceEqual("text"u8))
        {
            if (!Span(e.Text).IsEmpty)
            {
                WriteContent(output, Span(e.Text));
            }

            return;
        }

        if (!Span(e.BlockType).SequenceEqual("tool_use"u8))
        {
            return;
        }

        if (_jsonTool is not null && Span(e.Name).SequenceEqual(_jsonTool))
        {
            _toolIndexByBlock[e.Index] = JsonAnswerBlock;
            return;
        }

        var toolIndex = _toolCount++;
        _toolIndexByBlock[e.Index] = toolIndex;
        var json = BeginChunk(output);
        json.WriteStartArray("tool_calls"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, toolIndex);
        json.WriteString("id"u8, Span(e.Id));
        json.WriteString("type"u8, "function"u8);
        json.WriteStartObject("function"u8);
        json.WriteString("name"u8, Span(e.Name));
        json.WriteString("arguments"u8, ""u8);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        EndChunk(output, finishReason: null);
    }

    private void WriteBlockDelta(ref AnthropicStreamEvent e, IBufferWriter<byte> output)
    {
        if (Span(e.Text).IsEmpty)
        {
            return;
        }

        if (Span(e.DeltaType).SequenceEqual("text_delta"u8))
        {
            WriteContent(output, Span(e.Text));
            return;
        }

        if (!Span(e.DeltaType).SequenceEqual("input_json_delta"u8) || e.Index < 0 || e.Index >= _toolIndexByBlock.Length)
        {
            return;
        }

        var toolIndex = _toolIndexByBlock[e.Index];
        if (toolIndex == JsonAnswerBlock)
        {
            WriteContent(output, Span(e.Text));
        }
        else if (toolIndex >= 0)
        {
            var json = BeginChunk(output);
            json.WriteStartArray("tool_calls"u8);
            json.WriteStartObject();
            json.WriteNumber("index"u8, toolIndex);
            json.WriteStartObject("function"u8);
            json.WriteString("arguments"u8, Span(e.Text));
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            EndChunk(output, finishReason: null);
        }
    }

    private void WriteContent(IBufferWriter<byte> output, ReadOnlySpan<byte> text)
    {
        var json = BeginChunk(output);
        json.WriteString("content"u8, text);
        EndChunk(output, finishReason: null);
    }

    private void WriteDelta(IBufferWriter<byte> output, Action<Utf8JsonWriter> writeDelta)
    {
        var json = BeginChunk(output);
        writeDelta(json);
        EndChunk(output, finishReason: null);
    }

    private void Finish(IBufferWriter<byte> output)
    {
        BeginChunk(output);
        EndChunk(output, _finishReason ?? "stop");
        if (translation.IncludeUsage)
        {
            var json = TranslationJson.BeginEvent(output, _json, default);
            WriteChunkHeader(json);
            json.WriteStartArray("choices"u8);
            json.WriteEndArray();
            _usage.WriteOpenAi(json);
            json.WriteEndObject();
            TranslationJson.EndEvent(output, json);
        }

        output.Write("data: [DONE]\n\n"u8);
        Completed = true;
    }

    private void WriteError(IBufferWriter<byte> output, string type, string? code, string message)
    {
        var json = TranslationJson.BeginEvent(output, _json, default);
        json.WriteStartObject();
        json.WriteStartObject("error"u8);
        json.WriteString("message"u8, message);
        json.WriteString("type"u8, type);
        json.WriteNull("param"u8);
        json.WriteString("code"u8, code);
        json.WriteEndObject();
        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);
        Completed = true;
    }

    private Utf8JsonWriter BeginChunk(IBufferWriter<byte> output)
    {
        var json = TranslationJson.BeginEvent(output, _json, default);
        WriteChunkHeader(json);
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("delta"u8);
        return json;
    }

    private void EndChunk(IBufferWriter<byte> output, string? finishReason)
    {
        var json = _json;
        json.WriteEndObject();
        json.WriteNull("logprobs"u8);
        json.WriteString("finish_reason"u8, finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        if (translation.IncludeUsage)
        {
            json.WriteNull("usage"u8);
        }

        json.WriteEndObject();
        TranslationJson.EndEvent(output, json);
    }

    public void Dispose() => _json.Dispose();

    private ReadOnlySpan<byte> Span(Range range) => AnthropicStreamEvent.Slice(_scratch, range);

    private void WriteChunkHeader(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, _id);
        json.WriteString("object"u8, "chat.completion.chunk"u8);
        json.WriteNumber("created"u8, createdUnixSeconds);
        json.WriteString("model"u8, _model);
    }
}
