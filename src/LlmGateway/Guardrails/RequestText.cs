using System.Buffers;
using System.Text.Json;
using LlmGateway.Parsing;

namespace LlmGateway.Guardrails;

/// <summary>
/// The texts of a request that a model reads, in document order: chat messages' <c>content</c> (a string or the
/// <c>text</c> of each content part), <c>prompt</c> of a completion, <c>input</c> of an embedding, and
/// <c>instructions</c> and <c>input</c> of a Responses call. Collecting and rewriting walk the same way, so the
/// i-th collected text is the i-th text rewritten.
/// </summary>
internal static class RequestText
{
    public static void Collect(LlmOperation operation, JsonElement root, List<string> texts) =>
        new Walker(texts, null, null).Root(operation, root);

    /// <summary>Copies the body, replacing the i-th text by <paramref name="replacements"/>[i] where that is not null.</summary>
    public static ReadOnlyMemory<byte> Rewrite(LlmOperation operation, JsonElement root, IReadOnlyList<string?> replacements)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            new Walker(null, writer, replacements).Root(operation, root);
        }

        return buffer.WrittenMemory;
    }

    /// <summary>The number of chat messages (or Responses input items) in the request.</summary>
    public static int MessageCount(LlmOperation operation, JsonElement root)
    {
        var name = operation switch
        {
            LlmOperation.ChatCompletions => "messages",
            LlmOperation.Responses => "input",
            _ => null,
        };
        return name is not null && root.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array ? items.GetArrayLength() : 1;
    }

    private sealed class Walker(List<string>? texts, Utf8JsonWriter? writer, IReadOnlyList<string?>? replacements)
    {
        private int _index;

        public void Root(LlmOperation operation, JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Copy(root);
                return;
            }

            writer?.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                switch (operation)
                {
                    case LlmOperation.ChatCompletions when property.NameEquals("messages"u8):
                        Items(property, Message);
                        break;
                    case LlmOperation.Completions when property.NameEquals("prompt"u8):
                    case LlmOperation.Embeddings when property.NameEquals("input"u8):
                        Property(property);
                        TextOrTexts(property.Value);
                        break;
                    case LlmOperation.Responses when property.NameEquals("instructions"u8):
                        Property(property);
                        Text(property.Value);
                        break;
                    case LlmOperation.Responses when property.NameEquals("input"u8):
                        if (property.Value.ValueKind == JsonValueKind.String)
                        {
                            Property(property);
                            Text(property.Value);
                        }
                        else
                        {
                            Items(property, Message);
                        }

                        break;
                    default:
                        if (writer is not null)
                        {
                            property.WriteTo(writer);
                        }

                        break;
                }
            }

            writer?.WriteEndObject();
        }

        private void Message(JsonElement message)
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                Copy(message);
                return;
            }

            writer?.WriteStartObject();
            foreach (var property in message.EnumerateObject())
            {
                if (property.NameEquals("content"u8) && property.Value.ValueKind == JsonValueKind.String)
                {
                    Property(property);
                    Text(property.Value);
                }
                else if (property.NameEquals("content"u8) && property.Value.ValueKind == JsonValueKind.Array)
                {
                    Items(property, Part);
                }
                else if (writer is not null)
                {
                    property.WriteTo(writer);
                }
            }

            writer?.WriteEndObject();
        }

        private void Part(JsonElement part)
        {
            if (part.ValueKind != JsonValueKind.Object)
            {
                Copy(part);
                return;
            }

            writer?.WriteStartObject();
            foreach (var property in part.EnumerateObject())
            {
                if (property.NameEquals("text"u8) && property.Value.ValueKind == JsonValueKind.String)
                {
                    Property(property);
                    Text(property.Value);
                }
                else if (writer is not null)
                {
                    property.WriteTo(writer);
                }
            }

            writer?.WriteEndObject();
        }

        private void Items(JsonProperty property, Action<JsonElement> item)
        {
            if (property.Value.ValueKind != JsonValueKind.Array)
            {
                if (writer is not null)
                {
                    property.WriteTo(writer);
                }

                return;
            }

            Property(property);
            writer?.WriteStartArray();
            foreach (var element in property.Value.EnumerateArray())
            {
                item(element);
            }

            writer?.WriteEndArray();
        }

        private void TextOrTexts(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Array)
            {
                Text(value);
                return;
            }

            writer?.WriteStartArray();
            foreach (var element in value.EnumerateArray())
            {
                Text(element);
            }

            writer?.WriteEndArray();
        }

        private void Text(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.String)
            {
                Copy(value);
                return;
            }

            var index = _index++;
            texts?.Add(value.GetString()!);
            if (writer is null)
            {
                return;
            }

            if (replacements is not null && index < replacements.Count && replacements[index] is { } replacement)
            {
                writer.WriteStringValue(replacement);
            }
            else
            {
                value.WriteTo(writer);
            }
        }

        private void Property(JsonProperty property) => writer?.WritePropertyName(property.Name);

        private void Copy(JsonElement value)
        {
            if (writer is not null)
            {
                value.WriteTo(writer);
            }
        }
    }
}
