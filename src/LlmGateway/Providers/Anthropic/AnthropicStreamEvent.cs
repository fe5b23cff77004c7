using System.Text.Json;

namespace LlmGateway.Providers.Anthropic;

internal enum AnthropicEventType
{
    Unknown,
    MessageStart,
    ContentBlockStart,
    ContentBlockDelta,
    ContentBlockStop,
    MessageDelta,
    MessageStop,
    Ping,
    Error,
}

/// <summary>
/// The fields of one Anthropic stream event that the translation needs, read in one forward pass with
/// <see cref="Utf8JsonReader"/> (Anthropic "Streaming Messages": <c>message_start</c>, <c>content_block_start</c>,
/// <c>content_block_delta</c> with <c>text_delta</c> / <c>input_json_delta</c>, <c>content_block_stop</c>,
/// <c>message_delta</c>, <c>message_stop</c>, <c>ping</c>, <c>error</c>).
/// </summary>
/// <remarks>
/// String values are unescaped into a scratch buffer at least as long as the data (unescaping never lengthens a
/// string) and exposed as ranges of it: read them with <see cref="Slice(byte[], Range)"/>.
/// </remarks>
internal struct AnthropicStreamEvent
{
    public AnthropicEventType Type;
    public int Index;

    /// <summary><c>content_block.type</c> or <c>delta.type</c>.</summary>
    public Range BlockType;
    public Range DeltaType;
    public Range Id;
    public Range Name;
    public Range Model;

    /// <summary><c>delta.text</c>, <c>delta.partial_json</c> or <c>content_block.text</c>.</summary>
    public Range Text;
    public Range StopReason;
    public Range ErrorType;
    public Range ErrorMessage;
    public AnthropicUsage Usage;
    public bool HasUsage;

    private byte[] _scratch;
    private int _scratchUsed;

    public static ReadOnlySpan<byte> Slice(byte[] scratch, Range range) => scratch.AsSpan()[range];

    /// <summary>
    /// Reads an event's data. <paramref name="scratch"/> must be at least as long as <paramref name="data"/>. Usage
    /// updates are partial (a <c>message_delta</c> carries only some counts), so they apply on top of
    /// <paramref name="usageSoFar"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, byte[] scratch, AnthropicUsage usageSoFar, out AnthropicStreamEvent result)
    {
        result = default;
        result._scratch = scratch;
        result.Usage = usageSoFar;
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    result.Type = ReadType(ref reader);
                }
                else if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    result.Index = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var index) ? index : 0;
                }
                else if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    result.ReadObject(ref reader, ObjectKind.Message);
                }
                else if (reader.ValueTextEquals("content_block"u8))
                {
                    reader.Read();
                    result.ReadObject(ref reader, ObjectKind.ContentBlock);
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    result.ReadObject(ref reader, ObjectKind.Delta);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    result.ReadObject(ref reader, ObjectKind.Error);
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    result.HasUsage = true;
                    result.Usage.ReadAnthropic(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private enum ObjectKind
    {
        Message,
        ContentBlock,
        Delta,
        Error,
    }

    private static AnthropicEventType ReadType(ref Utf8JsonReader reader) => reader.TokenType != JsonTokenType.String
        ? AnthropicEventType.Unknown
        : reader.ValueTextEquals("content_block_delta"u8) ? AnthropicEventType.ContentBlockDelta
        : reader.ValueTextEquals("content_block_start"u8) ? AnthropicEventType.ContentBlockStart
        : reader.ValueTextEquals("content_block_stop"u8) ? AnthropicEventType.ContentBlockStop
        : reader.ValueTextEquals("message_start"u8) ? AnthropicEventType.MessageStart
        : reader.ValueTextEquals("message_delta"u8) ? AnthropicEventType.MessageDelta
        : reader.ValueTextEquals("message_stop"u8) ? AnthropicEventType.MessageStop
        : reader.ValueTextEquals("ping"u8) ? AnthropicEventType.Ping
        : reader.ValueTextEquals("error"u8) ? AnthropicEventType.Error
        : AnthropicEventType.Unknown;

    private void ReadObject(ref Utf8JsonReader reader, ObjectKind kind)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            switch (kind)
            {
                case ObjectKind.Message when reader.ValueTextEquals("id"u8):
                    Id = ReadString(ref reader);
                    break;
                case ObjectKind.Message when reader.ValueTextEquals("model"u8):
                    Model = ReadString(ref reader);
                    break;
                case ObjectKind.Message when reader.ValueTextEquals("usage"u8):
                    reader.Read();
                    HasUsage = true;
                    Usage.ReadAnthropic(ref reader);
                    break;
                case ObjectKind.ContentBlock when reader.ValueTextEquals("type"u8):
                    BlockType = ReadString(ref reader);
                    break;
                case ObjectKind.ContentBlock when reader.ValueTextEquals("id"u8):
                    Id = ReadString(ref reader);
                    break;
                case ObjectKind.ContentBlock when reader.ValueTextEquals("name"u8):
                    Name = ReadString(ref reader);
                    break;
                case ObjectKind.ContentBlock when reader.ValueTextEquals("text"u8):
                    Text = ReadString(ref reader);
                    break;
                case ObjectKind.Delta when reader.ValueTextEquals("type"u8):
                    DeltaType = ReadString(ref reader);
                    break;
                case ObjectKind.Delta when reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("partial_json"u8):
                    Text = ReadString(ref reader);
                    break;
                case ObjectKind.Delta when reader.ValueTextEquals("stop_reason"u8):
                    StopReason = ReadString(ref reader);
                    break;
                case ObjectKind.Error when reader.ValueTextEquals("type"u8):
                    ErrorType = ReadString(ref reader);
                    break;
                case ObjectKind.Error when reader.ValueTextEquals("message"u8):
                    ErrorMessage = ReadString(ref reader);
                    break;
                default:
                    reader.Read();
                    reader.Skip();
                    break;
            }
        }
    }

    private Range ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return default;
        }

        var start = _scratchUsed;
        _scratchUsed += reader.CopyString(_scratch.AsSpan(start));
        return start.._scratchUsed;
    }
}
