using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmGateway.Providers.Translation;

/// <summary>Shared settings and small helpers of the translators between provider APIs.</summary>
internal static class TranslationJson
{
    /// <summary>
    /// Relaxed escaping writes text as UTF-8 the way the providers do; translated bodies are never embedded in HTML.
    /// Validation is off because the stream translators reuse one writer for many separate SSE payloads.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public static string? GetString(JsonElement element, ReadOnlySpan<byte> property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static bool TryGet(JsonElement element, ReadOnlySpan<byte> property, JsonValueKind kind, out JsonElement value)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out value) && value.ValueKind == kind)
        {
            return true;
        }

        value = default;
        return false;
    }

    public static long GetInt64(JsonElement element, ReadOnlySpan<byte> property) =>
        TryGet(element, property, JsonValueKind.Number, out var value) && value.TryGetInt64(out var number) ? number : 0;

    /// <summary>Starts an SSE event (named when <paramref name="eventName"/> is not empty) and returns the writer for its JSON payload.</summary>
    public static Utf8JsonWriter BeginEvent(IBufferWriter<byte> output, Utf8JsonWriter json, ReadOnlySpan<byte> eventName)
    {
        if (!eventName.IsEmpty)
        {
            output.Write("event: "u8);
            output.Write(eventName);
            output.Write("\n"u8);
        }

        output.Write("data: "u8);
        json.Reset(output);
        return json;
    }

    public static void EndEvent(IBufferWriter<byte> output, Utf8JsonWriter json)
    {
        json.Flush();
        output.Write("\n\n"u8);
    }
}
