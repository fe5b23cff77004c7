using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Providers.Anthropic;

/// <summary>Translates an Anthropic Messages response (a <c>message</c> object) into an OpenAI <c>chat.completion</c>.</summary>
/// <remarks>
/// Text blocks are joined into <c>content</c>; <c>tool_use</c> blocks become <c>tool_calls</c> with their input as a
/// JSON string; thinking blocks are dropped. The Anthropic message id is kept as the completion id so that a log line
/// on either side finds the other.
/// </remarks>
internal static class MessagesToChatResponse
{
    /// <summary>Returns false when the body is not an Anthropic message (the caller answers 502).</summary>
    public static bool Translate(ReadOnlySpan<byte> anthropicMessage, ChatTranslation translation, long createdUnixSeconds, IBufferWriter<byte> output)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(anthropicMessage);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var message = document.RootElement;
            if (TranslationJson.GetString(message, "type"u8) != "message"
                || !TranslationJson.TryGet(message, "content"u8, JsonValueKind.Array, out var content))
            {
                return false;
            }

            Write(message, content, translation, createdUnixSeconds, output);
            return true;
        }
    }

    private static void Write(JsonElement message, JsonElement content, ChatTranslation translation, long created, IBufferWriter<byte> output)
    {
        StringBuilder? text = null;
        string? singleText = null;
        var toolCalls = 0;
        foreach (var block in content.EnumerateArray())
        {
            var type = TranslationJson.GetString(block, "type"u8);
            string? piece = type switch
            {
                "text" => TranslationJson.GetString(block, "text"u8),
                "tool_use" when IsJsonAnswer(block, translation) => block.TryGetProperty("input"u8, out var input) ? input.GetRawText() : "{}",
                _ => null,
            };
            if (type == "tool_use" && piece is null)
            {
                toolCalls++;
            }

            if (piece is null)
            {
                continue;
            }

            if (singleText is null)
            {
                singleText = piece;
            }
            else
            {
                text ??= new StringBuilder(singleText);
                text.Append(piece);
            }
        }

        var usage = default(AnthropicUsage);
        if (message.TryGetProperty("usage"u8, out var usageElement))
        {
            usage.ReadAnthropic(usageElement);
        }

        var stopReason = TranslationJson.GetString(message, "stop_reason"u8);
        var finishReason = AnthropicStopReasons.ToFinishReason(Encoding.UTF8.GetBytes(stopReason ?? ""), translation.JsonResponseTool is not null);

        using var json = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        json.WriteStartObject();
        json.WriteString("id"u8, TranslationJson.GetString(message, "id"u8) ?? "");
        json.WriteString("object"u8, "chat.completion");
        json.WriteNumber("created"u8, created);
        json.WriteString("model"u8, TranslationJson.GetString(message, "model"u8) ?? "");
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("message"u8);
        json.WriteString("role"u8, "assistant");
        json.WriteString("content"u8, text?.ToString() ?? singleText);
        json.WriteNull("refusal"u8);
        if (toolCalls > 0)
        {
            json.WriteStartArray("tool_calls"u8);
            foreach (var block in content.EnumerateArray())
            {
                if (TranslationJson.GetString(block, "type"u8) != "tool_use" || IsJsonAnswer(block, translation))
                {
                    continue;
                }

                json.WriteStartObject();
                json.WriteString("id"u8, TranslationJson.GetString(block, "id"u8) ?? "");
                json.WriteString("type"u8, "function");
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, TranslationJson.GetString(block, "name"u8) ?? "");
                json.WriteString("arguments"u8, block.TryGetProperty("input"u8, out var input) ? input.GetRawText() : "{}");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
        json.WriteNull("logprobs"u8);
        json.WriteString("finish_reason"u8, finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        usage.WriteOpenAi(json);
        json.WriteEndObject();
    }

    private static bool IsJsonAnswer(JsonElement block, ChatTranslation translation) =>
        translation.JsonResponseTool is { } tool && TranslationJson.GetString(block, "name"u8) == tool;
}
