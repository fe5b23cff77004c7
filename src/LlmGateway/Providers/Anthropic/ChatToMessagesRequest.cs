using System.Buffers;
using System.Text.Json;
using LlmGateway.Errors;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Translates an OpenAI chat completions request into an Anthropic Messages request.
/// </summary>
/// <remarks>
/// Shapes follow OpenAI's "Create chat completion" reference and Anthropic's Messages API reference (docs.anthropic.com
/// / platform.claude.com: "Messages", "Vision", "Tool use"). docs/providers.md lists every field: what is mapped, what
/// is emulated and what is dropped. Unsupported features that would change the answer's meaning (n &gt; 1, audio, files)
/// are rejected with a 400 rather than silently ignored.
/// </remarks>
internal static class ChatToMessagesRequest
{
    /// <summary>Anthropic requires <c>max_tokens</c>; OpenAI does not. Used when the request names no cap.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>Writes the Anthropic request into <paramref name="output"/>; returns the error to answer instead, if any.</summary>
    public static GatewayError? Translate(JsonElement request, string upstreamModel, int defaultMaxTokens, IBufferWriter<byte> output, out ChatTranslation translation)
    {
        translation = new ChatTranslation(false, false, null);
        if (!TranslationJson.TryGet(request, "messages"u8, JsonValueKind.Array, out var messages) || messages.GetArrayLength() == 0)
        {
            return GatewayError.MissingParameter("messages");
        }

        if (TranslationJson.TryGet(request, "n"u8, JsonValueKind.Number, out var n) && (!n.TryGetInt32(out var choices) || choices != 1))
        {
            return Unsupported("n", "Anthropic returns one choice per request; 'n' must be 1.");
        }

        var stream = request.TryGetProperty("stream"u8, out var streamValue) && streamValue.ValueKind == JsonValueKind.True;
        var includeUsage = stream
            && TranslationJson.TryGet(request, "stream_options"u8, JsonValueKind.Object, out var streamOptions)
            && streamOptions.TryGetProperty("include_usage"u8, out var usageValue) && usageValue.ValueKind == JsonValueKind.True;

        var hasTools = TranslationJson.TryGet(request, "tools"u8, JsonValueKind.Array, out var tools) && tools.GetArrayLength() > 0;
        var jsonError = ReadJsonMode(request, hasTools, out var jsonTool, out var jsonSchema);
        if (jsonError is not null)
        {
            return jsonError;
        }

        using var json = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        json.WriteStartObject();
        json.WriteString("model"u8, upstreamModel);

        var maxTokensError = WriteMaxTokens(json, request, defaultMaxTokens);
        if (maxTokensError is not null)
        {
            return maxTokensError;
        }

        var messagesError = WriteMessages(json, messages);
        if (messagesError is not null)
        {
            return messagesError;
        }

        WriteSampling(json, request);
        if (TranslationJson.GetString(request, "user"u8) is { Length: > 0 } user)
        {
            json.WriteStartObject("metadata"u8);
            json.WriteString("user_id"u8, user);
            json.WriteEndObject();
        }

        if (jsonTool is not null)
        {
            WriteJsonModeTool(json, jsonTool, jsonSchema);
        }
        else if (hasTools)
        {
            var toolsError = WriteTools(json, tools, request);
            if (toolsError is not null)
            {
                return toolsError;
            }
        }

        if (stream)
        {
            json.WriteBoolean("stream"u8, true);
        }

        json.WriteEndObject();
        json.Flush();
        translation = new ChatTranslation(stream, includeUsage, jsonTool);
        return null;
    }

    private static GatewayError Unsupported(string param, string detail) =>
        new(StatusCodes.Status400BadRequest, $"Unsupported value for '{param}' with this provider: {detail}", GatewayError.InvalidRequest, "unsupported_parameter", param);

    /// <summary>
    /// JSON mode is emulated by forcing a tool whose input is the answer: Anthropic always returns tool input as a
    /// JSON object, which is what <c>json_object</c> promises, and with a schema it follows <c>json_schema</c>.
    /// </summary>
    private static GatewayError? ReadJsonMode(JsonElement request, bool hasTools, out string? tool, out JsonElement schema)
    {
        tool = null;
        schema = default;
        if (!TranslationJson.TryGet(request, "response_format"u8, JsonValueKind.Object, out var format))
        {
            return null;
        }

        switch (TranslationJson.GetString(format, "type"u8))
        {
            case "json_object":
                tool = ChatTranslation.JsonObjectTool;
                break;
            case "json_schema":
                if (!TranslationJson.TryGet(format, "json_schema"u8, JsonValueKind.Object, out var definition)
                    || !TranslationJson.TryGet(definition, "schema"u8, JsonValueKind.Object, out schema))
                {
                    return GatewayError.InvalidParameter("response_format.json_schema", "expected an object with a 'schema'.");
                }

                tool = TranslationJson.GetString(definition, "name"u8) is { Length: > 0 } name ? name : "json_response";
                break;
            default:
                return null;
        }

        return hasTools
            ? Unsupported("response_format", "JSON mode is emulated with a forced tool on Anthropic and cannot be combined with 'tools'.")
            : null;
    }

    private static GatewayError? WriteMaxTokens(Utf8JsonWriter json, JsonElement request, int defaultMaxTokens)
    {
        int? cap = null;
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (!request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var tokens) || tokens < 1)
            {
                return GatewayError.InvalidParameter(name, "expected an integer greater than 0.");
            }

            cap = cap is { } other ? Math.Min(other, tokens) : tokens;
        }

        json.WriteNumber("max_tokens"u8, cap ?? defaultMaxTokens);
        return null;
    }

    private static void WriteSampling(Utf8JsonWriter json, JsonElement request)
    {
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

        if (!request.TryGetProperty("stop"u8, out var stop))
        {
            return;
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            json.WriteStartArray("stop_sequences"u8);
            stop.WriteTo(json);
            json.WriteEndArray();
        }
        else if (stop.ValueKind == JsonValueKind.Array && stop.GetArrayLength() > 0)
        {
            json.WritePropertyName("stop_sequences"u8);
            stop.WriteTo(json);
        }
    }

    /// <summary>
    /// System and developer messages become the top-level <c>system</c>; the rest become alternating turns, with
    /// consecutive turns of one role merged (Anthropic requires alternation) and tool results sent as
    /// <c>tool_result</c> blocks in a user turn.
    /// </summary>
    private static GatewayError? WriteMessages(Utf8JsonWriter json, JsonElement messages)
    {
        var systemCount = 0;
        json.WriteStartArray("messages"u8);
        string? openRole = null;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var role = TranslationJson.GetString(message, "role"u8);
            var param = $"messages[{index++}]";
            if (role is "system" or "developer")
            {
                systemCount++;
                continue;
            }

            var anthropicRole = role switch
            {
                "user" or "tool" => "user",
                "assistant" => "assistant",
                _ => null,
            };
            if (anthropicRole is null)
            {
                return GatewayError.InvalidParameter(param + ".role", "expected 'system', 'developer', 'user', 'assistant' or 'tool'.");
            }

            if (!HasBlocks(message, role!))
            {
                continue;
            }

            if (openRole != anthropicRole)
            {
                if (openRole is not null)
                {
                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteStartObject();
                json.WriteString("role"u8, anthropicRole);
                json.WriteStartArray("content"u8);
                openRole = anthropicRole;
            }

            var error = role switch
            {
                "tool" => WriteToolResult(json, message, param),
                "assistant" => WriteAssistantBlocks(json, message, param),
                _ => WriteContentBlocks(json, message, param),
            };
            if (error is not null)
            {
                return error;
            }
        }

        if (openRole is not null)
        {
            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        return systemCount > 0 ? WriteSystem(json, messages) : null;
    }

    private static bool HasBlocks(JsonElement message, string role)
    {
        if (role == "tool")
        {
            return true;
        }

        if (role == "assistant" && TranslationJson.TryGet(message, "tool_calls"u8, JsonValueKind.Array, out var calls) && calls.GetArrayLength() > 0)
        {
            return true;
        }

        if (!message.TryGetProperty("content"u8, out var content))
        {
            return false;
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString()!.Length > 0,
            JsonValueKind.Array => content.GetArrayLength() > 0,
            _ => false,
        };
    }

    private static GatewayError? WriteSystem(Utf8JsonWriter json, JsonElement messages)
    {
        json.WriteStartArray("system"u8);
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index++}]";
            if (TranslationJson.GetString(message, "role"u8) is "system" or "developer")
            {
                var error = WriteContentBlocks(json, message, param, textOnly: true);
                if (error is not null)
                {
                    return error;
                }
            }
        }

        json.WriteEndArray();
        return null;
    }

    /// <summary>A user (or system) message's content: a string, or parts of type <c>text</c> and <c>image_url</c>.</summary>
    private static GatewayError? WriteContentBlocks(Utf8JsonWriter json, JsonElement message, string param, bool textOnly = false)
    {
        if (!message.TryGetProperty("content"u8, out var content))
        {
            return null;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            WriteTextBlock(json, content.GetString()!);
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return content.ValueKind == JsonValueKind.Null ? null : GatewayError.InvalidParameter(param + ".content", "expected a string or an array of content parts.");
        }

        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partParam = $"{param}.content[{index++}]";
            switch (TranslationJson.GetString(part, "type"u8))
            {
                case "text":
                    json.WriteStartObject();
                    json.WriteString("type"u8, "text");
                    json.WriteString("text"u8, TranslationJson.GetString(part, "text"u8) ?? "");
                    if (part.TryGetProperty("cache_control"u8, out var cacheControl))
                    {
                        // Clients that target Anthropic through OpenAI-shaped SDKs mark cache breakpoints this way.
                        json.WritePropertyName("cache_control"u8);
                        cacheControl.WriteTo(json);
                    }

                    json.WriteEndObject();
                    break;
                case "image_url" when !textOnly:
                    var error = WriteImageBlock(json, part, partParam);
                    if (error is not null)
                    {
                        return error;
                    }

                    break;
                default:
                    return Unsupported(partParam + ".type", textOnly
                        ? "system and developer messages may only hold text."
                        : "Anthropic accepts 'text' and 'image_url' parts here.");
            }
        }

        return null;
    }

    private static void WriteTextBlock(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "text");
        json.WriteString("text"u8, text);
        json.WriteEndObject();
    }

    /// <summary>A data URL becomes a base64 source, an http(s) URL a url source (Anthropic "Vision" docs).</summary>
    private static GatewayError? WriteImageBlock(Utf8JsonWriter json, JsonElement part, string param)
    {
        var url = part.TryGetProperty("image_url"u8, out var imageUrl)
            ? imageUrl.ValueKind == JsonValueKind.String ? imageUrl.GetString() : TranslationJson.GetString(imageUrl, "url"u8)
            : null;
        if (url is null)
        {
            return GatewayError.InvalidParameter(param + ".image_url.url", "expected a URL.");
        }

        json.WriteStartObject();
        json.WriteString("type"u8, "image");
        json.WriteStartObject("source"u8);
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            const string marker = ";base64,";
            var comma = url.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (comma < 0)
            {
                return GatewayError.InvalidParameter(param + ".image_url.url", "a data URL must be base64-encoded (data:image/png;base64,...).");
            }

            json.WriteString("type"u8, "base64");
            json.WriteString("media_type"u8, url.AsSpan(5, comma - 5));
            json.WriteString("data"u8, url.AsSpan(comma + marker.Length));
        }
        else if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            json.WriteString("type"u8, "url");
            json.WriteString("url"u8, url);
        }
        else
        {
            return GatewayError.InvalidParameter(param + ".image_url.url", "expected an http(s) URL or a base64 data URL.");
        }

        json.WriteEndObject();
        json.WriteEndObject();
        return null;
    }

    /// <summary>Assistant text, then each tool call as a <c>tool_use</c> block whose input is the parsed arguments.</summary>
    private static GatewayError? WriteAssistantBlocks(Utf8JsonWriter json, JsonElement message, string param)
    {
        if (message.TryGetProperty("content"u8, out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                if (content.GetString() is { Length: > 0 } text)
                {
                    WriteTextBlock(json, text);
                }
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var error = WriteContentBlocks(json, message, param, textOnly: true);
                if (error is not null)
                {
                    return error;
                }
            }
        }

        if (!TranslationJson.TryGet(message, "tool_calls"u8, JsonValueKind.Array, out var calls))
        {
            return null;
        }

        var index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callParam = $"{param}.tool_calls[{index++}]";
            if (!TranslationJson.TryGet(call, "function"u8, JsonValueKind.Object, out var function)
                || TranslationJson.GetString(call, "id"u8) is not { } id
                || TranslationJson.GetString(function, "name"u8) is not { } name)
            {
                return GatewayError.InvalidParameter(callParam, "expected an 'id' and a 'function' with a 'name'.");
            }

            json.WriteStartObject();
            json.WriteString("type"u8, "tool_use");
            json.WriteString("id"u8, id);
            json.WriteString("name"u8, name);
            json.WritePropertyName("input"u8);
            if (!WriteArgumentsAsObject(json, TranslationJson.GetString(function, "arguments"u8)))
            {
                return GatewayError.InvalidParameter(callParam + ".function.arguments", "expected a JSON object encoded as a string (Anthropic needs tool input as an object).");
            }

            json.WriteEndObject();
        }

        return null;
    }

    private static bool WriteArgumentsAsObject(Utf8JsonWriter json, string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            json.WriteStartObject();
            json.WriteEndObject();
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            document.RootElement.WriteTo(json);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static GatewayError? WriteToolResult(Utf8JsonWriter json, JsonElement message, string param)
    {
        if (TranslationJson.GetString(message, "tool_call_id"u8) is not { } toolCallId)
        {
            return GatewayError.MissingParameter(param + ".tool_call_id");
        }

        json.WriteStartObject();
        json.WriteString("type"u8, "tool_result");
        json.WriteString("tool_use_id"u8, toolCallId);
        if (message.TryGetProperty("content"u8, out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                json.WritePropertyName("content"u8);
                content.WriteTo(json);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                json.WriteStartArray("content"u8);
                var error = WriteContentBlocks(json, message, param);
                if (error is not null)
                {
                    return error;
                }

                json.WriteEndArray();
            }
        }

        json.WriteEndObject();
        return null;
    }

    private static void WriteJsonModeTool(Utf8JsonWriter json, string tool, JsonElement schema)
    {
        json.WriteStartArray("tools"u8);
        json.WriteStartObject();
        json.WriteString("name"u8, tool);
        json.WriteString("description"u8, "Respond with the answer as this tool's input.");
        json.WritePropertyName("input_schema"u8);
        if (schema.ValueKind == JsonValueKind.Object)
        {
            schema.WriteTo(json);
        }
        else
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "object");
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteStartObject("tool_choice"u8);
        json.WriteString("type"u8, "tool");
        json.WriteString("name"u8, tool);
        json.WriteEndObject();
    }

    private static GatewayError? WriteTools(Utf8JsonWriter json, JsonElement tools, JsonElement request)
    {
        json.WriteStartArray("tools"u8);
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var param = $"tools[{index++}]";
            if (TranslationJson.GetString(tool, "type"u8) != "function"
                || !TranslationJson.TryGet(tool, "function"u8, JsonValueKind.Object, out var function)
                || TranslationJson.GetString(function, "name"u8) is not { } name)
            {
                return Unsupported(param, "only tools of type 'function' with a 'name' translate to Anthropic.");
            }

            json.WriteStartObject();
            json.WriteString("name"u8, name);
            if (TranslationJson.GetString(function, "description"u8) is { } description)
            {
                json.WriteString("description"u8, description);
            }

            json.WritePropertyName("input_schema"u8);
            if (TranslationJson.TryGet(function, "parameters"u8, JsonValueKind.Object, out var parameters))
            {
                parameters.WriteTo(json);
            }
            else
            {
                // A function without parameters takes none; Anthropic still wants a schema.
                json.WriteStartObject();
                json.WriteString("type"u8, "object");
                json.WriteStartObject("properties"u8);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();

        var serial = request.TryGetProperty("parallel_tool_calls"u8, out var parallel) && parallel.ValueKind == JsonValueKind.False;
        string? choiceType = "auto";
        string? forcedName = null;
        if (request.TryGetProperty("tool_choice"u8, out var choice))
        {
            if (choice.ValueKind == JsonValueKind.String)
            {
                choiceType = choice.GetString() switch
                {
                    "none" => "none",
                    "auto" => "auto",
                    "required" => "any",
                    _ => null,
                };
            }
            else if (TranslationJson.TryGet(choice, "function"u8, JsonValueKind.Object, out var function)
                && TranslationJson.GetString(function, "name"u8) is { } name)
            {
                choiceType = "tool";
                forcedName = name;
            }
            else
            {
                choiceType = null;
            }

            if (choiceType is null)
            {
                return GatewayError.InvalidParameter("tool_choice", "expected 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}.");
            }
        }
        else if (!serial)
        {
            return null;
        }

        json.WriteStartObject("tool_choice"u8);
        json.WriteString("type"u8, choiceType);
        if (forcedName is not null)
        {
            json.WriteString("name"u8, forcedName);
        }

        if (serial && choiceType != "none")
        {
            json.WriteBoolean("disable_parallel_tool_use"u8, true);
        }

        json.WriteEndObject();
        return null;
    }
}
