using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Errors;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Translates an Anthropic Messages request (the inbound <c>POST /v1/messages</c>) into an OpenAI chat completions
/// request, for OpenAI-shaped upstreams.
/// </summary>
/// <remarks>
/// <c>system</c> becomes a system message; <c>tool_result</c> blocks become <c>tool</c> messages placed before the rest
/// of their user turn (OpenAI wants them right after the assistant's calls); <c>tool_use</c> blocks become
/// <c>tool_calls</c>; images become <c>image_url</c> parts. Streams always ask for the usage chunk, which Anthropic's
/// <c>message_delta</c> needs. <c>top_k</c>, <c>thinking</c> and <c>cache_control</c> have no OpenAI equivalent and
/// are dropped; documents (PDF) are rejected. docs/providers.md has the full table.
/// </remarks>
internal static class MessagesToChatRequest
{
    /// <param name="useMaxCompletionTokens">
    /// OpenAI's reasoning models accept only <c>max_completion_tokens</c>; many OpenAI-compatible servers only
    /// <c>max_tokens</c>.
    /// </param>
    public static GatewayError? Translate(JsonElement request, string upstreamModel, bool useMaxCompletionTokens, IBufferWriter<byte> output, out bool stream)
    {
        stream = request.TryGetProperty("stream"u8, out var streamValue) && streamValue.ValueKind == JsonValueKind.True;
        if (!TranslationJson.TryGet(request, "messages"u8, JsonValueKind.Array, out var messages))
        {
            return GatewayError.MissingParameter("messages");
        }

        using var json = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        json.WriteStartObject();
        json.WriteString("model"u8, upstreamModel);
        json.WriteStartArray("messages"u8);
        if (request.TryGetProperty("system"u8, out var system))
        {
            var text = JoinText(system);
            if (text.Length > 0)
            {
                json.WriteStartObject();
                json.WriteString("role"u8, "system");
                json.WriteString("content"u8, text);
                json.WriteEndObject();
            }
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index++}]";
            var error = TranslationJson.GetString(message, "role"u8) switch
            {
                "user" => WriteUserTurn(json, message, param),
                "assistant" => WriteAssistantTurn(json, message, param),
                _ => GatewayError.InvalidParameter(param + ".role", "expected 'user' or 'assistant'."),
            };
            if (error is not null)
            {
                return error;
            }
        }

        json.WriteEndArray();

        if (TranslationJson.TryGet(request, "max_tokens"u8, JsonValueKind.Number, out var maxTokens))
        {
            json.WritePropertyName(useMaxCompletionTokens ? "max_completion_tokens"u8 : "max_tokens"u8);
            maxTokens.WriteTo(json);
        }

        if (TranslationJson.TryGet(request, "temperature"u8, JsonValueKind.Number, out var temperature))
        {
            json.WritePropertyName("temperature"u8);
            temperature.WriteTo(json);
        }

        if (TranslationJson.TryGet(request, "top_p"u8, JsonValueKind.Number, out var topP))
        {
            json.WritePropertyName("top_p"u8);
            topP.WriteTo(json);
        }

        if (TranslationJson.TryGet(request, "stop_sequences"u8, JsonValueKind.Array, out var stop) && stop.GetArrayLength() > 0)
        {
            json.WritePropertyName("stop"u8);
            stop.WriteTo(json);
        }

        if (TranslationJson.TryGet(request, "metadata"u8, JsonValueKind.Object, out var metadata)
            && TranslationJson.GetString(metadata, "user_id"u8) is { Length: > 0 } user)
        {
            json.WriteString("user"u8, user);
        }

        var toolsError = WriteTools(json, request);
        if (toolsError is not null)
        {
            return toolsError;
        }

        if (stream)
        {
            json.WriteBoolean("stream"u8, true);
            json.WriteStartObject("stream_options"u8);
            json.WriteBoolean("include_usage"u8, true);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        return null;
    }

    /// <summary>A string, or the <c>text</c> of every text block, joined.</summary>
    private static string JoinText(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var block in content.EnumerateArray())
        {
            if (TranslationJson.GetString(block, "type"u8) == "text" && TranslationJson.GetString(block, "text"u8) is { } piece)
            {
                text.Append(piece);
            }
        }

        return text.ToString();
    }

    private static GatewayError? WriteUserTurn(Utf8JsonWriter json, JsonElement message, string param)
    {
        if (!message.TryGetProperty("content"u8, out var content))
        {
            return GatewayError.MissingParameter(param + ".content");
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            json.WriteStartObject();
            json.WriteString("role"u8, "user");
            json.WritePropertyName("content"u8);
            content.WriteTo(json);
            json.WriteEndObject();
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return GatewayError.InvalidParameter(param + ".content", "expected a string or an array of content blocks.");
        }

        // Tool results first: OpenAI needs each tool message straight after the assistant message that called it.
        var others = 0;
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockParam = $"{param}.content[{index++}]";
            if (TranslationJson.GetString(block, "type"u8) != "tool_result")
            {
                others++;
                continue;
            }

            if (TranslationJson.GetString(block, "tool_use_id"u8) is not { } toolUseId)
            {
                return GatewayError.MissingParameter(blockParam + ".tool_use_id");
            }

            json.WriteStartObject();
            json.WriteString("role"u8, "tool");
            json.WriteString("tool_call_id"u8, toolUseId);
            json.WriteString("content"u8, block.TryGetProperty("content"u8, out var result) ? JoinText(result) : "");
            json.WriteEndObject();
        }

        if (others == 0)
        {
            return null;
        }

        json.WriteStartObject();
        json.WriteString("role"u8, "user");
        json.WriteStartArray("content"u8);
        index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockParam = $"{param}.content[{index++}]";
            switch (TranslationJson.GetString(block, "type"u8))
            {
                case "tool_result":
                    break;
                case "text":
                    json.WriteStartObject();
                    json.WriteString("type"u8, "text");
                    json.WriteString("text"u8, TranslationJson.GetString(block, "text"u8) ?? "");
                    json.WriteEndObject();
                    break;
                case "image":
                    var error = WriteImagePart(json, block, blockParam);
                    if (error is not null)
                    {
                        return error;
                    }

                    break;
                default:
                    return new GatewayError(StatusCodes.Status400BadRequest,
                        $"Unsupported content block at '{blockParam}': this model's provider accepts text, image, tool_use and tool_result blocks.",
                        GatewayError.InvalidRequest, "unsupported_parameter", blockParam);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        return null;
    }

    private static GatewayError? WriteImagePart(Utf8JsonWriter json, JsonElement block, string param)
    {
        if (!TranslationJson.TryGet(block, "source"u8, JsonValueKind.Object, out var source))
        {
            return GatewayError.MissingParameter(param + ".source");
        }

        string url;
        switch (TranslationJson.GetString(source, "type"u8))
        {
            case "base64":
                url = $"data:{TranslationJson.GetString(source, "media_type"u8)};base64,{TranslationJson.GetString(source, "data"u8)}";
                break;
            case "url" when TranslationJson.GetString(source, "url"u8) is { } link:
                url = link;
                break;
            default:
                return GatewayError.InvalidParameter(param + ".source", "expected a 'base64' or 'url' image source.");
        }

        json.WriteStartObject();
        json.WriteString("type"u8, "image_url");
        json.WriteStartObject("image_url"u8);
        json.WriteString("url"u8, url);
        json.WriteEndObject();
        json.WriteEndObject();
        return null;
    }

    private static GatewayError? WriteAssistantTurn(Utf8JsonWriter json, JsonElement message, string param)
    {
        if (!message.TryGetProperty("content"u8, out var content))
        {
            return GatewayError.MissingParameter(param + ".content");
        }

        json.WriteStartObject();
        json.WriteString("role"u8, "assistant");
        var text = JoinText(content);
        if (text.Length > 0)
        {
            json.WriteString("content"u8, text);
        }
        else
        {
            json.WriteNull("content"u8);
        }

        if (content.ValueKind == JsonValueKind.Array)
        {
            var wroteCalls = false;
            foreach (var block in content.EnumerateArray())
            {
                if (TranslationJson.GetString(block, "type"u8) != "tool_use")
                {
                    continue;
                }

                if (!wroteCalls)
                {
                    json.WriteStartArray("tool_calls"u8);
                    wroteCalls = true;
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

            if (wroteCalls)
            {
                json.WriteEndArray();
            }
        }

        json.WriteEndObject();
        return null;
    }

    private static GatewayError? WriteTools(Utf8JsonWriter json, JsonElement request)
    {
        if (TranslationJson.TryGet(request, "tools"u8, JsonValueKind.Array, out var tools) && tools.GetArrayLength() > 0)
        {
            json.WriteStartArray("tools"u8);
            var index = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var param = $"tools[{index++}]";
                if (TranslationJson.GetString(tool, "name"u8) is not { } name
                    || !TranslationJson.TryGet(tool, "input_schema"u8, JsonValueKind.Object, out var schema))
                {
                    // Anthropic's server tools (web search, code execution, ...) run at Anthropic; an OpenAI model cannot.
                    return new GatewayError(StatusCodes.Status400BadRequest,
                        $"Unsupported tool at '{param}': this model's provider accepts custom tools with a 'name' and an 'input_schema'.",
                        GatewayError.InvalidRequest, "unsupported_parameter", param);
                }

                json.WriteStartObject();
                json.WriteString("type"u8, "function");
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, name);
                if (TranslationJson.GetString(tool, "description"u8) is { } description)
                {
                    json.WriteString("description"u8, description);
                }

                json.WritePropertyName("parameters"u8);
                schema.WriteTo(json);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        if (!TranslationJson.TryGet(request, "tool_choice"u8, JsonValueKind.Object, out var choice))
        {
            return null;
        }

        switch (TranslationJson.GetString(choice, "type"u8))
        {
            case "auto":
                json.WriteString("tool_choice"u8, "auto");
                break;
            case "any":
                json.WriteString("tool_choice"u8, "required");
                break;
            case "none":
                json.WriteString("tool_choice"u8, "none");
                break;
            case "tool" when TranslationJson.GetString(choice, "name"u8) is { } name:
                json.WriteStartObject("tool_choice"u8);
                json.WriteString("type"u8, "function");
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, name);
                json.WriteEndObject();
                json.WriteEndObject();
                break;
            default:
                return GatewayError.InvalidParameter("tool_choice", "expected a type of 'auto', 'any', 'none' or 'tool' (with a 'name').");
        }

        if (choice.TryGetProperty("disable_parallel_tool_use"u8, out var serial) && serial.ValueKind == JsonValueKind.True && tools.ValueKind == JsonValueKind.Array)
        {
            json.WriteBoolean("parallel_tool_calls"u8, false);
        }

        return null;
    }
}
