using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LlmGateway.Parsing;

namespace LlmGateway.Caching;

/// <summary>
/// The cache keys of a request. The exact key hashes everything that changes the answer: tenant scope, operation,
/// model and the body in canonical form (object keys sorted, no whitespace, numbers and strings normalised), so that
/// key order or formatting never causes a miss. Fields that cannot change the answer (<c>user</c>,
/// <c>stream_options</c>, <c>metadata</c>, <c>store</c>) are left out; <c>stream</c> stays in, because a stream and a
/// JSON body are stored differently.
/// </summary>
public static class CacheKeys
{
    private const string Version = "v1";

    // Top-level request fields that do not change the answer.
    private static readonly byte[][] s_ignoredFields =
        ["model"u8.ToArray(), "user"u8.ToArray(), "stream_options"u8.ToArray(), "metadata"u8.ToArray(), "store"u8.ToArray(),
         "safety_identifier"u8.ToArray(), "prompt_cache_key"u8.ToArray()];

    // Strings that need no unescaping are copied as they are; the rest are decoded and written again with this
    // encoder, which (like the raw text) leaves non-ASCII characters alone, so both forms of a string agree.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    // A buffer grown past this by a large request is not kept for the thread's next key.
    private const int MaxRetainedBufferBytes = 256 * 1024;

    // What stands in for the final user turn in the semantic context hash.
    private const string FinalTurnPlaceholder = "\u0000final-user-turn";

    /// <summary>The exact-cache key: lowercase hex SHA-256.</summary>
    public static string Exact(string tenantScope, LlmRequestFeature request, string model, string? protocolVariant = null)
    {
        return HashCanonical(tenantScope, request, model, protocolVariant, replaceFinalTurn: false);
    }

    /// <summary>
    /// Splits a chat request into its final user turn and a hash of everything else (system prompt, earlier turns,
    /// tools, parameters). Returns false when the request has no final user turn of plain text.
    /// </summary>
    public static bool TrySemantic(string tenantScope, LlmRequestFeature request, string model, string? protocolVariant, string embeddingModel,
        out string finalUserText, out SemanticScope scope)
    {
        finalUserText = "";
        scope = default;
        if (request.Operation is not (LlmOperation.ChatCompletions or LlmOperation.Messages)
            || !TryFindFinalUserTurn(request.Root, out finalUserText))
        {
            return false;
        }

        var context = HashCanonical(tenantScope, request, model, protocolVariant, replaceFinalTurn: true);
        scope = new SemanticScope(Partition(tenantScope, model, embeddingModel), context);
        return true;
    }

    /// <summary>
    /// One vector index per tenant, model and embeddings model (vectors of two embeddings models do not compare), named
    /// by a hash so that team names never appear in Redis keys.
    /// </summary>
    public static string Partition(string tenantScope, string model, string embeddingModel)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        WritePreamble(buffer, tenantScope, LlmOperation.ChatCompletions, model, protocolVariant: embeddingModel);
        return Hash(buffer.WrittenSpan)[..32];
    }

    private static string HashCanonical(string tenantScope, LlmRequestFeature request, string model, string? protocolVariant, bool replaceFinalTurn)
    {
        // The key is computed on every request of a cached route: the buffer and writer are the thread's, reused.
        var writer = PerThreadJsonWriter<KeyWriterSlot>.Rent(s_writerOptions, out var buffer);
        WritePreamble(buffer, tenantScope, request.Operation, model, protocolVariant);
        WriteRoot(writer, request.Root, replaceFinalTurn);
        writer.Flush();
        var hash = Hash(buffer.WrittenSpan);
        PerThreadJsonWriter<KeyWriterSlot>.Return(buffer, MaxRetainedBufferBytes);
        return hash;
    }

    private static void WritePreamble(ArrayBufferWriter<byte> buffer, string tenantScope, LlmOperation operation, string model, string? protocolVariant)
    {
        // Length-prefixed, so that no choice of names can make two different preambles produce the same bytes.
        WriteField(buffer, Version);
        WriteField(buffer, tenantScope);
        WriteField(buffer, operation.ToString());
        WriteField(buffer, model);
        WriteField(buffer, protocolVariant ?? "");
    }

    private static void WriteField(ArrayBufferWriter<byte> buffer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var span = buffer.GetSpan(length + 12);
        length.TryFormat(span, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        span[written++] = (byte)':';
        written += Encoding.UTF8.GetBytes(value, span[written..]);
        span[written++] = (byte)'\n';
        buffer.Advance(written);
    }

    private static string Hash(ReadOnlySpan<byte> bytes)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return Convert.ToHexStringLower(hash);
    }

    private static bool TryFindFinalUserTurn(JsonElement root, out string text)
    {
        text = "";
        if (!root.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var count = messages.GetArrayLength();
        if (count == 0)
        {
            return false;
        }

        var last = messages[count - 1];
        if (last.ValueKind != JsonValueKind.Object
            || !last.TryGetProperty("role"u8, out var role) || !role.ValueEquals("user"u8)
            || !last.TryGetProperty("content"u8, out var content))
        {
            return false;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            text = content.GetString() ?? "";
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            // Only text parts: an image or a file in the final turn is not something its wording can stand for.
            var builder = new StringBuilder();
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object
                    || !part.TryGetProperty("type"u8, out var type) || !type.ValueEquals("text"u8)
                    || !part.TryGetProperty("text"u8, out var partText) || partText.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                if (builder.Length > 0)
                {
                    builder.Append('\n');
                }

                builder.Append(partText.GetString());
            }

            text = builder.ToString();
        }

        return !string.IsNullOrWhiteSpace(text);
    }

    private static void WriteRoot(Utf8JsonWriter writer, JsonElement root, bool replaceFinalTurn)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            WriteCanonical(writer, root);
            return;
        }

        WriteObject(writer, root, replaceFinalTurn ? ObjectRole.RequestWithoutFinalTurn : ObjectRole.Request);
    }

    private enum ObjectRole
    {
        /// <summary>Any object inside the request.</summary>
        Nested,

        /// <summary>The request itself: ignored fields left out.</summary>
        Request,

        /// <summary>The request, with the content of its last message replaced by a placeholder.</summary>
        RequestWithoutFinalTurn,

        /// <summary>The last message, whose content is replaced by a placeholder.</summary>
        FinalMessage,
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, element, ObjectRole.Nested);
                break;
            case JsonValueKind.Array:
                WriteArray(writer, element, lastIsFinalMessage: false);
                break;
            case JsonValueKind.String:
                var raw = JsonMarshal.GetRawUtf8Value(element);
                if (raw.IndexOf((byte)'\\') < 0)
                {
                    writer.WriteRawValue(raw, skipInputValidation: true);
                }
                else
                {
                    writer.WriteStringValue(element.GetString());
                }

                break;
            case JsonValueKind.Number:
                // 1, 1.0 and 1e0 are the same number: integers as integers, the rest as the shortest round-trip double.
                if (element.TryGetInt64(out var integer))
                {
                    writer.WriteNumberValue(integer);
                }
                else if (element.TryGetDouble(out var real) && double.IsFinite(real) && real == Math.Floor(real) && Math.Abs(real) < 1e15)
                {
                    writer.WriteNumberValue((long)real);
                }
                else if (element.TryGetDouble(out real) && double.IsFinite(real))
                {
                    writer.WriteNumberValue(real);
                }
                else
                {
                    element.WriteTo(writer);
                }

                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private static void WriteArray(Utf8JsonWriter writer, JsonElement array, bool lastIsFinalMessage)
    {
        writer.WriteStartArray();
        var remaining = array.GetArrayLength();
        foreach (var item in array.EnumerateArray())
        {
            if (--remaining == 0 && lastIsFinalMessage)
            {
                WriteObject(writer, item, ObjectRole.FinalMessage);
            }
            else
            {
                WriteCanonical(writer, item);
            }
        }

        writer.WriteEndArray();
    }

    private static void WriteObject(Utf8JsonWriter writer, JsonElement element, ObjectRole role)
    {
        var skipIgnored = role is ObjectRole.Request or ObjectRole.RequestWithoutFinalTurn;
        var properties = ArrayPool<JsonProperty>.Shared.Rent(16);
        var count = 0;
        try
        {
            foreach (var property in element.EnumerateObject())
            {
                if (skipIgnored && IsIgnored(JsonMarshal.GetRawUtf8PropertyName(property)))
                {
                    continue;
                }

                if (count == properties.Length)
                {
                    var larger = ArrayPool<JsonProperty>.Shared.Rent(count * 2);
                    properties.AsSpan(0, count).CopyTo(larger);
                    ArrayPool<JsonProperty>.Shared.Return(properties, clearArray: true);
                    properties = larger;
                }

                properties[count++] = property;
            }

            var sorted = properties.AsSpan(0, count);
            sorted.Sort(static (a, b) => JsonMarshal.GetRawUtf8PropertyName(a).SequenceCompareTo(JsonMarshal.GetRawUtf8PropertyName(b)));
            writer.WriteStartObject();
            foreach (var property in sorted)
            {
                var name = JsonMarshal.GetRawUtf8PropertyName(property);
                if (name.IndexOf((byte)'\\') < 0)
                {
                    writer.WritePropertyName(name);
                }
                else
                {
                    writer.WritePropertyName(property.Name);
                }

                if (role == ObjectRole.FinalMessage && property.NameEquals("content"u8))
                {
                    writer.WriteStringValue(FinalTurnPlaceholder);
                }
                else if (role == ObjectRole.RequestWithoutFinalTurn && property.NameEquals("messages"u8) && property.Value.ValueKind == JsonValueKind.Array)
                {
                    WriteArray(writer, property.Value, lastIsFinalMessage: true);
                }
                else
                {
                    WriteCanonical(writer, property.Value);
                }
            }

            writer.WriteEndObject();
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(properties, clearArray: true);
        }
    }

    private static bool IsIgnored(ReadOnlySpan<byte> name)
    {
        foreach (var ignored in s_ignoredFields)
        {
            if (name.SequenceEqual(ignored))
            {
                return true;
            }
        }

        return false;
    }

    private sealed class KeyWriterSlot;
}
