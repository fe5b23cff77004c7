using System.Buffers;
using System.Text.Json;
using LlmGateway.Parsing;

namespace LlmGateway.Guardrails.Streaming;

/// <summary>What <see cref="StreamingChatGuardrail.RewriteChunk"/> did with one event.</summary>
public enum ChunkRewrite
{
    /// <summary>Send the event as it came; nothing was written to the output.</summary>
    Unchanged,

    /// <summary>Send the output instead of the event.</summary>
    Rewritten,

    /// <summary>
    /// Send the output (a chunk whose finish reason is <c>content_filter</c>), then <c>data: [DONE]</c>, and stop
    /// reading the upstream: nothing after the block may reach the client.
    /// </summary>
    Blocked,
}

/// <summary>
/// The output guards of one streamed chat completion: a <see cref="StreamingTextGuard"/> per choice, applied to the
/// <c>delta.content</c> of each <c>chat.completion.chunk</c> event. Text held back by a guard is released in later
/// chunks, and whatever is still held when a choice finishes goes out in the chunk that carries its finish reason.
/// </summary>
public sealed class StreamingChatGuardrail
{
    private readonly Func<StreamingTextGuard> _createGuard;
    private readonly Dictionary<int, StreamingTextGuard> _choices = [];

    // Almost every chunk is rewritten, since the guards release text a window behind: the outcomes list is kept for
    // the stream, the writer and its buffer per thread (the buffer's bytes are copied out, so no request's buffer is
    // held after it ends).
    private readonly List<(string? Content, bool Changed, bool Blocked)> _outcomes = [];

    // A buffer grown past this by a huge chunk is not kept for the thread's next one.
    private const int MaxRetainedBufferBytes = 64 * 1024;

    internal StreamingChatGuardrail(Func<StreamingTextGuard> createGuard) => _createGuard = createGuard;

    /// <summary>The guard that blocked the stream, if one did.</summary>
    public string? BlockedBy { get; private set; }

    /// <summary>
    /// Rewrites the JSON payload of one SSE <c>data:</c> line (without the <c>data: </c> prefix; not <c>[DONE]</c>).
    /// When the result is not <see cref="ChunkRewrite.Unchanged"/>, the replacement JSON is in <paramref name="output"/>.
    /// </summary>
    public ChunkRewrite RewriteChunk(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (BlockedBy is not null)
        {
            return ChunkRewrite.Blocked;
        }

        var reader = new Utf8JsonReader(data);
        JsonDocument document;
        try
        {
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return ChunkRewrite.Unchanged;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices"u8, out var choices)
                || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                return ChunkRewrite.Unchanged;
            }

            // Decide every choice first; the chunk is written only if some text or finish reason changes.
            var outcomes = _outcomes;
            outcomes.Clear();
            var changed = false;
            foreach (var choice in choices.EnumerateArray())
            {
                var outcome = Decide(choice);
                outcomes.Add(outcome);
                changed |= outcome.Changed;
            }

            if (!changed)
            {
                return ChunkRewrite.Unchanged;
            }

            var writer = PerThreadJsonWriter<StreamingChatGuardrail>.Rent(default, out var buffer);
            ResponseText.WriteWithChoices(writer, root, choices, outcomes,
                static (writer, choice, index, outcomes) => WriteChoice(writer, choice, outcomes[index]));
            writer.Flush();
            output.Write(buffer.WrittenSpan);
            PerThreadJsonWriter<StreamingChatGuardrail>.Return(buffer, MaxRetainedBufferBytes);

            return BlockedBy is null ? ChunkRewrite.Rewritten : ChunkRewrite.Blocked;
        }
    }

    private (string? Content, bool Changed, bool Blocked) Decide(JsonElement choice)
    {
        if (choice.ValueKind != JsonValueKind.Object)
        {
            return (null, false, false);
        }

        var index = choice.TryGetProperty("index"u8, out var indexElement) && indexElement.TryGetInt32(out var value) ? value : 0;
        if (!_choices.TryGetValue(index, out var guard))
        {
            _choices[index] = guard = _createGuard();
        }

        string? content = null;
        if (choice.TryGetProperty("delta"u8, out var delta) && delta.ValueKind == JsonValueKind.Object
            && delta.TryGetProperty("content"u8, out var contentElement) && contentElement.ValueKind == JsonValueKind.String)
        {
            content = contentElement.GetString();
        }

        var finishing = choice.TryGetProperty("finish_reason"u8, out var finish) && finish.ValueKind == JsonValueKind.String;
        if (content is null && !finishing)
        {
            return (null, false, false);
        }

        var decision = content is null ? new StreamingDecision("", null) : guard.Push(content);
        var emit = decision.Emit;
        if (!decision.Blocked && finishing)
        {
            var rest = guard.Complete();
            decision = rest.Blocked ? rest : decision;
            emit += rest.Emit;
        }

        if (decision.Blocked)
        {
            BlockedBy ??= decision.BlockedBy;
            return ("", true, true);
        }

        return (emit, !string.Equals(emit, content ?? "", StringComparison.Ordinal) || (content is null && emit.Length > 0), false);
    }

    private static void WriteChoice(Utf8JsonWriter writer, JsonElement choice, (string? Content, bool Changed, bool Blocked) outcome)
    {
        if (!outcome.Changed)
        {
            choice.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        var wroteDelta = false;
        var wroteFinish = false;
        foreach (var property in choice.EnumerateObject())
        {
            if (property.NameEquals("delta"u8) && property.Value.ValueKind == JsonValueKind.Object)
            {
                writer.WriteStartObject("delta"u8);
                foreach (var field in property.Value.EnumerateObject())
                {
                    if (!field.NameEquals("content"u8))
                    {
                        field.WriteTo(writer);
                    }
                }

                writer.WriteString("content"u8, outcome.Content);
                writer.WriteEndObject();
                wroteDelta = true;
            }
            else if (property.NameEquals("finish_reason"u8) && outcome.Blocked)
            {
                writer.WriteString("finish_reason"u8, ResponseText.ContentFilter);
                wroteFinish = true;
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        if (!wroteDelta)
        {
            writer.WriteStartObject("delta"u8);
            writer.WriteString("content"u8, outcome.Content);
            writer.WriteEndObject();
        }

        if (outcome.Blocked && !wroteFinish)
        {
            writer.WriteString("finish_reason"u8, ResponseText.ContentFilter);
        }

        writer.WriteEndObject();
    }
}

/// <summary>
/// Set on a streamed chat request whose policy has output guards: the response observer rewrites every
/// <c>chat.completion.chunk</c> through <see cref="Guardrail"/>.
/// </summary>
public sealed class StreamingGuardrailFeature(StreamingChatGuardrail guardrail)
{
    public StreamingChatGuardrail Guardrail { get; } = guardrail;
}
