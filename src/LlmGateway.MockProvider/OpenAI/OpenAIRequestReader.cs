using System.Text;
using System.Text.Json;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary>Reads the few request fields the mock acts on, leniently: anything it does not need is ignored.</summary>
internal static class OpenAIRequestReader
{
    public static string? GetString(JsonElement element, ReadOnlySpan<byte> property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static bool GetBool(JsonElement element, ReadOnlySpan<byte> property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.True;

    public static bool HasNonEmptyArray(JsonElement element, ReadOnlySpan<byte> property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0;

    /// <summary><c>stream_options.include_usage</c>: whether a stream ends with a usage chunk.</summary>
    public static bool IncludeUsage(JsonElement body) =>
        body.TryGetProperty("stream_options"u8, out var streamOptions)
        && streamOptions.ValueKind == JsonValueKind.Object
        && GetBool(streamOptions, "include_usage"u8);

    /// <summary>
    /// The text of a message's <c>content</c>: a string, or the <c>text</c> of each part of an array of parts
    /// (<c>text</c>, <c>input_text</c>, <c>output_text</c>), joined by new lines; images and audio carry no words.
    /// </summary>
    public static string ReadContentText(JsonElement message)
    {
        if (!message.TryGetProperty("content"u8, out var content))
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        string? single = null;
        StringBuilder? joined = null;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || GetString(part, "text"u8) is not { } text)
            {
                continue;
            }

            if (single is null)
            {
                single = text;
                continue;
            }

            joined ??= new StringBuilder(single);
            joined.Append('\n').Append(text);
        }

        return joined?.ToString() ?? single ?? "";
    }

    /// <summary>
    /// Reads an optional positive integer such as <c>max_tokens</c>. Returns false, having written the 400, when it
    /// is present but not a positive integer.
    /// </summary>
    public static async ValueTask<(bool Valid, int? Value)> TryReadPositiveIntAsync(HttpContext context, JsonElement body, string property)
    {
        if (!body.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (true, null);
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0)
        {
            return (true, number);
        }

        await OpenAIErrors.WriteInvalidRequestAsync(context, $"Invalid '{property}': expected an integer greater than 0.", property, "invalid_value");
        return (false, null);
    }

    /// <summary>The effective cap of a chat or completion request: the smaller of <c>max_completion_tokens</c> and <c>max_tokens</c>.</summary>
    public static async ValueTask<(bool Valid, int? Value)> TryReadMaxTokensAsync(HttpContext context, JsonElement body)
    {
        var (valid, maxCompletionTokens) = await TryReadPositiveIntAsync(context, body, "max_completion_tokens");
        if (!valid)
        {
            return (false, null);
        }

        (valid, var maxTokens) = await TryReadPositiveIntAsync(context, body, "max_tokens");
        if (!valid)
        {
            return (false, null);
        }

        return (true, (maxCompletionTokens, maxTokens) switch
        {
            ({ } a, { } b) => Math.Min(a, b),
            (var a, var b) => a ?? b,
        });
    }
}
