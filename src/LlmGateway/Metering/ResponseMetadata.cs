using System.Text.Json;

namespace LlmGateway.Metering;

/// <summary>
/// The response's id and finish reasons (<c>gen_ai.response.id</c>, <c>gen_ai.response.finish_reasons</c>), as the
/// client receives them: OpenAI chat completions and completions (<c>id</c>, <c>choices[*].finish_reason</c>),
/// Anthropic's Messages API (<c>id</c>, <c>stop_reason</c>) and OpenAI's Responses API (<c>id</c>, and
/// <c>status</c> mapped to the semantic conventions' values), from a whole JSON body or from the events of a stream.
/// </summary>
/// <remarks>
/// A mutable struct: keep it in a field and read through that field, never through a copy. Streamed events are
/// searched for the few property names that matter before anything is parsed, and only the matching value is read.
/// </remarks>
public struct ResponseMetadata
{
    /// <summary>Longer ids are not provider ids; they are left out rather than put on a span.</summary>
    public const int MaxIdBytes = 256;

    /// <summary>Longer finish reasons are left out.</summary>
    public const int MaxReasonBytes = 64;

    /// <summary>OpenAI's largest <c>n</c>: no answer has more finish reasons than choices.</summary>
    public const int MaxReasons = 128;

    // A stream's id is in its first event (Azure may send a content-filter event with an empty id before it).
    private const int MaxStreamIdAttempts = 4;

    private string? _firstReason;
    private List<string>? _moreReasons;
    private int _streamIdAttempts;

    /// <summary>The response's id; null when the response had none.</summary>
    public string? Id { get; private set; }

    /// <summary>How many finish reasons were read.</summary>
    public readonly int FinishReasonCount => _firstReason is null ? 0 : 1 + (_moreReasons?.Count ?? 0);

    /// <summary>The finish reasons in the order they came (one per choice); null when there were none. Allocates a new array.</summary>
    public readonly string[]? ToFinishReasons() =>
        _firstReason is null ? null : _moreReasons is null ? [_firstReason] : [_firstReason, .. _moreReasons];

    /// <summary>Reads a whole JSON response body.</summary>
    public void ReadBody(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, isFinalBlock: true, state: default);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                ReadResponseObject(ref reader);
            }
        }
        catch (JsonException)
        {
            // A malformed body has no trustworthy id or finish reason; whatever was read before the error stays.
        }
    }

    /// <summary>Reads the data of one streamed event.</summary>
    public void ReadEvent(ReadOnlySpan<byte> data)
    {
        if (Id is null && _streamIdAttempts < MaxStreamIdAttempts && data.IndexOf("\"id\""u8) >= 0)
        {
            _streamIdAttempts++;
            ReadStreamId(data);
        }

        // OpenAI's chunks carry "finish_reason":null until the last one; only a string value is read.
        ReadStringValues(data, "\"finish_reason\""u8);
        // Anthropic's message_delta; its message_start has "stop_reason":null.
        ReadStringValues(data, "\"stop_reason\""u8);
        if (data.IndexOf("\"response."u8) >= 0 && IsFinalResponsesEvent(data))
        {
            ReadFinalResponsesEvent(data);
        }
    }

    /// <summary>
    /// The Responses API's terminal events carry the whole response object. A quoted event type can only be a whole
    /// string of the event (inside a string quotes are escaped); a text that happens to equal one costs a parse that
    /// finds no <c>response</c> object.
    /// </summary>
    private static bool IsFinalResponsesEvent(ReadOnlySpan<byte> data) =>
        data.IndexOf("\"response.completed\""u8) >= 0 || data.IndexOf("\"response.incomplete\""u8) >= 0 || data.IndexOf("\"response.failed\""u8) >= 0;

    private void ReadFinalResponsesEvent(ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data, isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isResponse = reader.ValueTextEquals("response"u8);
                reader.Read();
                if (isResponse && reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadResponseObject(ref reader);
                    return;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Nothing to record from a malformed event.
        }
    }

    /// <summary>The top-level <c>id</c>, or that of Anthropic's <c>message_start.message</c> or the Responses API's <c>response</c>.</summary>
    private void ReadStreamId(ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data, isFinalBlock: true, state: default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (Id is null && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    ReadId(ref reader);
                }
                else if (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("response"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadNestedId(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not an event with an id.
        }
    }

    private void ReadNestedId(ref Utf8JsonReader reader)
    {
        while (Id is null && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId)
            {
                ReadId(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadId(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length is > 0 and <= MaxIdBytes)
        {
            Id = reader.GetString();
        }
    }

    /// <summary>Reads the string values of every <paramref name="quotedName"/> property in the event, without parsing the rest.</summary>
    private void ReadStringValues(ReadOnlySpan<byte> data, ReadOnlySpan<byte> quotedName)
    {
        var offset = 0;
        while (FinishReasonCount < MaxReasons)
        {
            var found = data[offset..].IndexOf(quotedName);
            if (found < 0)
            {
                return;
            }

            offset += found + quotedName.Length;
            var position = SkipWhitespace(data, offset);
            if (position >= data.Length || data[position] != (byte)':')
            {
                continue;
            }

            position = SkipWhitespace(data, position + 1);
            if (position < data.Length && data[position] == (byte)'"')
            {
                try
                {
                    var reader = new Utf8JsonReader(data[position..], isFinalBlock: true, state: default);
                    reader.Read();
                    AddReason(ref reader);
                }
                catch (JsonException)
                {
                    return;
                }
            }
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> json, int position)
    {
        while (position < json.Length && json[position] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            position++;
        }

        return position;
    }

    /// <summary>
    /// Reads the properties of a response object that matter: every shape's <c>id</c>, OpenAI's <c>choices</c>,
    /// Anthropic's <c>stop_reason</c>, and the Responses API's <c>status</c>, <c>incomplete_details</c> and
    /// <c>output</c>. The reader starts on the object's <c>{</c> and ends on its <c>}</c>.
    /// </summary>
    private void ReadResponseObject(ref Utf8JsonReader reader)
    {
        var status = ResponsesStatus.None;
        string? incompleteReason = null;
        var calledTool = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (Id is null)
                {
                    ReadId(ref reader);
                }
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                ReadChoices(ref reader);
            }
            else if (reader.ValueTextEquals("stop_reason"u8))
            {
                reader.Read();
                AddReason(ref reader);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                status = StatusOf(ref reader);
            }
            else if (reader.ValueTextEquals("incomplete_details"u8))
            {
                reader.Read();
                incompleteReason = IncompleteReasonOf(ref reader);
            }
            else if (reader.ValueTextEquals("output"u8))
            {
                reader.Read();
                calledTool = HasToolCall(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // The Responses API has no finish reason: its status says how the response ended.
        var reason = status switch
        {
            ResponsesStatus.Completed => calledTool ? "tool_call" : "stop",
            ResponsesStatus.Incomplete => incompleteReason,
            ResponsesStatus.Failed => "error",
            _ => null,
        };
        if (reason is not null)
        {
            AddReason(reason);
        }
    }

    private void ReadChoices(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isFinishReason = reader.ValueTextEquals("finish_reason"u8);
                reader.Read();
                if (isFinishReason)
                {
                    AddReason(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
    }

    private static ResponsesStatus StatusOf(ref Utf8JsonReader reader) =>
        reader.TokenType != JsonTokenType.String ? ResponsesStatus.None
        : reader.ValueTextEquals("completed"u8) ? ResponsesStatus.Completed
        : reader.ValueTextEquals("incomplete"u8) ? ResponsesStatus.Incomplete
        : reader.ValueTextEquals("failed"u8) ? ResponsesStatus.Failed
        : ResponsesStatus.None;

    /// <summary>The semantic conventions' value for why a Responses API answer is incomplete; null when none fits.</summary>
    private static string? IncompleteReasonOf(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? reason = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isReason = reader.ValueTextEquals("reason"u8);
            reader.Read();
            if (isReason && reader.TokenType == JsonTokenType.String)
            {
                reason = reader.ValueTextEquals("max_output_tokens"u8) ? "length"
                    : reader.ValueTextEquals("content_filter"u8) ? "content_filter"
                    : null;
            }
            else
            {
                reader.Skip();
            }
        }

        return reason;
    }

    /// <summary>Whether a Responses API <c>output</c> holds a call the client must run (a function or custom tool call).</summary>
    private static bool HasToolCall(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        var calledTool = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                reader.Read();
                if (isType && reader.TokenType == JsonTokenType.String)
                {
                    calledTool |= reader.ValueTextEquals("function_call"u8) || reader.ValueTextEquals("custom_tool_call"u8);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return calledTool;
    }

    private void AddReason(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length is > 0 and <= MaxReasonBytes)
        {
            AddReason(KnownReason(ref reader) ?? reader.GetString()!);
        }
    }

    private void AddReason(string reason)
    {
        if (_firstReason is null)
        {
            _firstReason = reason;
        }
        else if (FinishReasonCount < MaxReasons)
        {
            (_moreReasons ??= []).Add(reason);
        }
    }

    /// <summary>The providers' usual values as shared strings, so that reading them allocates nothing.</summary>
    private static string? KnownReason(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            return null;
        }

        var value = reader.ValueSpan;
        return value.SequenceEqual("stop"u8) ? "stop"
            : value.SequenceEqual("length"u8) ? "length"
            : value.SequenceEqual("tool_calls"u8) ? "tool_calls"
            : value.SequenceEqual("content_filter"u8) ? "content_filter"
            : value.SequenceEqual("function_call"u8) ? "function_call"
            : value.SequenceEqual("end_turn"u8) ? "end_turn"
            : value.SequenceEqual("max_tokens"u8) ? "max_tokens"
            : value.SequenceEqual("stop_sequence"u8) ? "stop_sequence"
            : value.SequenceEqual("tool_use"u8) ? "tool_use"
            : value.SequenceEqual("pause_turn"u8) ? "pause_turn"
            : value.SequenceEqual("refusal"u8) ? "refusal"
            : null;
    }

    private enum ResponsesStatus
    {
        None,
        Completed,
        Incomplete,
        Failed,
    }
}
