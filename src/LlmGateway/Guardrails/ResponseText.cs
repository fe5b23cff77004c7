using System.Buffers;
using System.Text.Json;
using LlmGateway.Parsing;

namespace LlmGateway.Guardrails;

/// <summary>What output guards made of one choice's text.</summary>
internal readonly record struct ChoiceOutcome(string Text, bool Blocked);

/// <summary>
/// Rewrites the text of every choice of a non-streamed <c>chat.completion</c> (<c>message.content</c>) or
/// <c>text_completion</c> (<c>text</c>); a blocked choice gets empty text and finish reason <c>content_filter</c>.
/// </summary>
internal static class ResponseText
{
    public const string ContentFilter = "content_filter";

    /// <summary>
    /// The rewritten body; null when the body is not a completion the guards can read, or when no choice changed (the
    /// client then gets the upstream's bytes as they are).
    /// </summary>
    public static byte[]? Rewrite(LlmOperation operation, ReadOnlyMemory<byte> json, Func<string, ChoiceOutcome> transform)
    {
        if (operation is not (LlmOperation.ChatCompletions or LlmOperation.Completions))
        {
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices"u8, out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            // Every choice is judged first; the answer is written again only if one of them changed.
            var outcomes = new ChoiceOutcome?[choices.GetArrayLength()];
            var changed = false;
            var index = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                if (ChoiceText(choice, operation) is { } text)
                {
                    var outcome = transform(text);
                    outcomes[index] = outcome;
                    changed |= outcome.Blocked || !string.Equals(outcome.Text, text, StringComparison.Ordinal);
                }

                index++;
            }

            if (!changed)
            {
                return null;
            }

            var buffer = new ArrayBufferWriter<byte>(json.Length + 64);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                WriteWithChoices(writer, root, choices, (operation, outcomes),
                    static (writer, choice, index, state) => WriteChoice(writer, choice, state.operation, state.outcomes[index]));
            }

            return buffer.WrittenSpan.ToArray();
        }
    }

    /// <summary>
    /// Writes the object <paramref name="root"/> as it is, except that each element of its <paramref name="choices"/>
    /// array is written by <paramref name="writeChoice"/> (with its index): the one shape every answer rewrite shares.
    /// </summary>
    internal static void WriteWithChoices<TState>(
        Utf8JsonWriter writer, JsonElement root, JsonElement choices, TState state, Action<Utf8JsonWriter, JsonElement, int, TState> writeChoice)
    {
        writer.WriteStartObject();
        foreach (var property in root.EnumerateObject())
        {
            if (!property.NameEquals("choices"u8))
            {
                property.WriteTo(writer);
                continue;
            }

            writer.WriteStartArray("choices"u8);
            var index = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                writeChoice(writer, choice, index++, state);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteChoice(Utf8JsonWriter writer, JsonElement choice, LlmOperation operation, ChoiceOutcome? judged)
    {
        if (judged is not { } outcome)
        {
            choice.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        foreach (var property in choice.EnumerateObject())
        {
            if (operation == LlmOperation.ChatCompletions && property.NameEquals("message"u8))
            {
                writer.WriteStartObject("message"u8);
                foreach (var field in property.Value.EnumerateObject())
                {
                    if (field.NameEquals("content"u8))
                    {
                        writer.WriteString("content"u8, outcome.Blocked ? "" : outcome.Text);
                    }
                    else
                    {
                        field.WriteTo(writer);
                    }
                }

                writer.WriteEndObject();
            }
            else if (operation == LlmOperation.Completions && property.NameEquals("text"u8))
            {
                writer.WriteString("text"u8, outcome.Blocked ? "" : outcome.Text);
            }
            else if (outcome.Blocked && property.NameEquals("finish_reason"u8))
            {
                writer.WriteString("finish_reason"u8, ContentFilter);
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    private static string? ChoiceText(JsonElement choice, LlmOperation operation)
    {
        if (choice.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (operation == LlmOperation.ChatCompletions)
        {
            return choice.TryGetProperty("message"u8, out var message) && message.ValueKind == JsonValueKind.Object
                && message.TryGetProperty("content"u8, out var content) && content.ValueKind == JsonValueKind.String
                ? content.GetString()
                : null;
        }

        return choice.TryGetProperty("text"u8, out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
    }
}
