using System.Buffers;
using System.Text.Json;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Translates an OpenAI <c>chat.completion</c> into an Anthropic <c>message</c>, for <c>/v1/messages</c> clients served
/// by an OpenAI-shaped upstream.
/// </summary>
internal static class ChatToMessagesResponse
{
    /// <summary>Returns false when the body is not a chat completion (the caller answers 502).</summary>
    public static bool Translate(ReadOnlySpan<byte> chatCompletion, IBufferWriter<byte> output)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(chatCompletion);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var completion = document.RootElement;
            if (!TranslationJson.TryGet(completion, "choices"u8, JsonValueKind.Array, out var choices) || choices.GetArrayLength() == 0)
            {
                return false;
            }

            var choice = choices[0];
            TranslationJson.TryGet(choice, "message"u8, JsonValueKind.Object, out var message);
            var usage = completion.TryGetProperty("usage"u8, out var usageElement) ? AnthropicUsage.FromOpenAi(usageElement) : default;

            using var json = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
            json.WriteStartObject();
            json.WriteString("id"u8, TranslationJson.GetString(completion, "id"u8) ?? "");
            json.WriteString("type"u8, "message");
            json.WriteString("role"u8, "assistant");
            json.WriteString("model"u8, TranslationJson.GetString(completion, "model"u8) ?? "");
            json.WriteStartArray("content"u8);
            if (TranslationJson.GetString(message, "content"u8) is { Length: > 0 } text)
            {
                json.WriteStartObject();
                json.WriteString("type"u8, "text");
                json.WriteString("text"u8, text);
                json.WriteEndObject();
            }

            if (TranslationJson.TryGet(message, "tool_calls"u8, JsonValueKind.Array, out var calls))
            {
                foreach (var call in calls.EnumerateArray())
                {
                    TranslationJson.TryGet(call, "function"u8, JsonValueKind.Object, out var function);
                    json.WriteStartObject();
                    json.WriteString("type"u8, "tool_use");
                    json.WriteString("id"u8, TranslationJson.GetString(call, "id"u8) ?? "");
                    json.WriteString("name"u8, TranslationJson.GetString(function, "name"u8) ?? "");
                    json.WritePropertyName("input"u8);
                    WriteArgumentsObject(json, TranslationJson.GetString(function, "arguments"u8));
                    json.WriteEndObject();
                }
            }

            json.WriteEndArray();
            json.WriteString("stop_reason"u8, AnthropicStopReasons.ToStopReason(TranslationJson.GetString(choice, "finish_reason"u8)));
            json.WriteNull("stop_sequence"u8);
            usage.WriteAnthropic(json);
            json.WriteEndObject();
            return true;
        }
    }

    /// <summary>
    /// Anthropic clients expect tool input as an object. Arguments that are not a JSON object (a model can emit
    /// broken JSON) are kept, as a string, under <c>arguments</c> rather than dropped.
    /// </summary>
    internal static void WriteArgumentsObject(Utf8JsonWriter json, string? arguments)
    {
        if (!string.IsNullOrWhiteSpace(arguments))
        {
            try
            {
                using var parsed = JsonDocument.Parse(arguments);
                if (parsed.RootElement.ValueKind == JsonValueKind.Object)
                {
                    parsed.RootElement.WriteTo(json);
                    return;
                }
            }
            catch (JsonException)
            {
                // Kept as a string below.
            }
        }

        json.WriteStartObject();
        if (!string.IsNullOrWhiteSpace(arguments))
        {
            json.WriteString("arguments"u8, arguments);
        }

        json.WriteEndObject();
    }
}
