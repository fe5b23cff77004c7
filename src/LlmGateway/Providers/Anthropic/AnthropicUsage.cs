using System.Text.Json;

namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Anthropic's token counts (Anthropic "Prompt caching": <c>input_tokens</c> counts only the tokens after the last
/// cache breakpoint; <c>cache_read_input_tokens</c> and <c>cache_creation_input_tokens</c> are billed separately).
/// </summary>
internal struct AnthropicUsage
{
    public long InputTokens;
    public long OutputTokens;
    public long CacheReadInputTokens;
    public long CacheCreationInputTokens;

    /// <summary>Every prompt token, as OpenAI counts them: uncached, read from cache and written to cache.</summary>
    public readonly long PromptTokens => InputTokens + CacheReadInputTokens + CacheCreationInputTokens;

    /// <summary>
    /// Writes OpenAI's <c>usage</c>: <c>prompt_tokens_details.cached_tokens</c> carries cache reads, and
    /// <c>prompt_tokens_details.cache_creation_tokens</c> (not an OpenAI field; SDKs ignore it) carries cache writes,
    /// which Anthropic bills at a higher rate, so that metering can price them exactly.
    /// </summary>
    public readonly void WriteOpenAi(Utf8JsonWriter json)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, PromptTokens);
        json.WriteNumber("completion_tokens"u8, OutputTokens);
        json.WriteNumber("total_tokens"u8, PromptTokens + OutputTokens);
        json.WriteStartObject("prompt_tokens_details"u8);
        json.WriteNumber("cached_tokens"u8, CacheReadInputTokens);
        json.WriteNumber("cache_creation_tokens"u8, CacheCreationInputTokens);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details"u8);
        json.WriteNumber("reasoning_tokens"u8, 0);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public readonly void WriteAnthropic(Utf8JsonWriter json)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, InputTokens);
        json.WriteNumber("cache_creation_input_tokens"u8, CacheCreationInputTokens);
        json.WriteNumber("cache_read_input_tokens"u8, CacheReadInputTokens);
        json.WriteNumber("output_tokens"u8, OutputTokens);
        json.WriteEndObject();
    }

    /// <summary>Reads Anthropic's <c>usage</c> object; absent fields keep their value (stream updates are partial).</summary>
    public void ReadAnthropic(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in usage.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out var value))
            {
                continue;
            }

            if (property.NameEquals("input_tokens"u8))
            {
                InputTokens = value;
            }
            else if (property.NameEquals("output_tokens"u8))
            {
                OutputTokens = value;
            }
            else if (property.NameEquals("cache_read_input_tokens"u8))
            {
                CacheReadInputTokens = value;
            }
            else if (property.NameEquals("cache_creation_input_tokens"u8))
            {
                CacheCreationInputTokens = value;
            }
        }
    }

    /// <summary>Reads Anthropic's <c>usage</c> object with a reader positioned on its start.</summary>
    public void ReadAnthropic(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref var field = ref InputTokens;
            var known = true;
            if (reader.ValueTextEquals("input_tokens"u8))
            {
                field = ref InputTokens;
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                field = ref OutputTokens;
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                field = ref CacheReadInputTokens;
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                field = ref CacheCreationInputTokens;
            }
            else
            {
                known = false;
            }

            reader.Read();
            if (known && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
            {
                field = value;
            }
            else
            {
                reader.Skip();
            }
        }
    }

    /// <summary>Reads OpenAI's <c>usage</c> into Anthropic's terms: cached prompt tokens are cache reads.</summary>
    public static AnthropicUsage FromOpenAi(JsonElement usage)
    {
        var result = default(AnthropicUsage);
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return result;
        }

        var prompt = Translation.TranslationJson.GetInt64(usage, "prompt_tokens"u8);
        var cached = Translation.TranslationJson.TryGet(usage, "prompt_tokens_details"u8, JsonValueKind.Object, out var details)
            ? Translation.TranslationJson.GetInt64(details, "cached_tokens"u8)
            : 0;
        result.CacheReadInputTokens = cached;
        result.InputTokens = Math.Max(0, prompt - cached);
        result.OutputTokens = Translation.TranslationJson.GetInt64(usage, "completion_tokens"u8);
        return result;
    }
}
