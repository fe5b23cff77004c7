using System.Text.Json;

namespace LlmGateway.Metering;

/// <summary>
/// Finds and reads a <c>usage</c> object in a response body or a streamed chunk, in the shapes of OpenAI's chat
/// completions and completions (<c>prompt_tokens</c>, <c>completion_tokens</c>, <c>*_details</c>), its Responses API
/// and embeddings (<c>input_tokens</c>, <c>output_tokens</c>), and Anthropic's Messages API (whose
/// <c>input_tokens</c> excludes <c>cache_read_input_tokens</c> and <c>cache_creation_input_tokens</c>), without
/// allocating.
/// </summary>
public static class UsageReader
{
    /// <summary>Reads the first non-null <c>usage</c> object in <paramref name="json"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out TokenUsage usage)
    {
        usage = default;
        var start = FindUsageObject(json);
        if (start < 0)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json[start..], isFinalBlock: true, state: default);
            return reader.Read() && ReadUsageObject(ref reader, out usage);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="json"/> carries a non-null <c>usage</c> object.</summary>
    public static bool HasUsage(ReadOnlySpan<byte> json) => FindUsageObject(json) >= 0;

    /// <summary>
    /// The index of the <c>{</c> that opens a <c>"usage":{</c>. A raw search is safe: inside JSON strings quotes are
    /// escaped, so <c>"usage"</c> followed by a colon can only be a property name.
    /// </summary>
    private static int FindUsageObject(ReadOnlySpan<byte> json)
    {
        var offset = 0;
        while (true)
        {
            var found = json[offset..].IndexOf("\"usage\""u8);
            if (found < 0)
            {
                return -1;
            }

            var position = offset + found + 7;
            position = SkipWhitespace(json, position);
            if (position < json.Length && json[position] == (byte)':')
            {
                position = SkipWhitespace(json, position + 1);
                if (position < json.Length && json[position] == (byte)'{')
                {
                    return position;
                }
            }

            offset = offset + found + 7;
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

    private static bool ReadUsageObject(ref Utf8JsonReader reader, out TokenUsage usage)
    {
        long prompt = 0, completion = 0, cached = 0, reasoning = 0, anthropicCacheRead = 0, anthropicCacheWrite = 0;
        var sawCount = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
            {
                prompt = ReadCount(ref reader);
                sawCount = true;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
            {
                completion = ReadCount(ref reader);
                sawCount = true;
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                anthropicCacheRead = ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                anthropicCacheWrite = ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8))
            {
                cached = ReadDetail(ref reader, "cached_tokens"u8);
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8))
            {
                reasoning = ReadDetail(ref reader, "reasoning_tokens"u8);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        prompt += anthropicCacheRead + anthropicCacheWrite;
        cached += anthropicCacheRead;
        usage = new TokenUsage(prompt, completion, Math.Min(cached, prompt), Math.Min(reasoning, completion));
        return sawCount;
    }

    private static long ReadCount(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value > 0 ? value : 0;
    }

    private static long ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return 0;
        }

        long result = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                result = ReadCount(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return result;
    }
}
