using System.Buffers;
using System.Text.Json;
using LlmGateway.Errors;

namespace LlmGateway.Parsing;

/// <summary>Parses a request body into an <see cref="LlmRequestFeature"/>, or explains in OpenAI's words what is wrong with it.</summary>
public static class LlmRequestParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Parses <paramref name="length"/> bytes of <paramref name="rentedBuffer"/>, a buffer from
    /// <see cref="ArrayPool{T}.Shared"/>. On success the feature owns the buffer; on failure it is returned to the pool.
    /// </summary>
    public static LlmRequestFeature? Parse(LlmOperation operation, byte[] rentedBuffer, int length, out GatewayError? error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(rentedBuffer.AsMemory(0, length), DocumentOptions);
        }
        catch (JsonException exception)
        {
            ArrayPool<byte>.Shared.Return(rentedBuffer);
            error = GatewayError.InvalidJson($"line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}");
            return null;
        }

        error = Validate(operation, document.RootElement, out var fields);
        if (error is not null)
        {
            document.Dispose();
            ArrayPool<byte>.Shared.Return(rentedBuffer);
            return null;
        }

        return new LlmRequestFeature(operation, document, rentedBuffer, length)
        {
            Model = fields.Model!,
            Stream = fields.Stream,
            IncludeUsage = fields.IncludeUsage,
            MaxOutputTokens = fields.MaxOutputTokens,
            Temperature = fields.Temperature,
            User = fields.User,
        };
    }

    private struct Fields
    {
        public string? Model;
        public bool Stream;
        public bool IncludeUsage;
        public int? MaxOutputTokens;
        public double? Temperature;
        public string? User;
        public bool HasRequiredInput;
    }

    private static GatewayError? Validate(LlmOperation operation, JsonElement root, out Fields fields)
    {
        fields = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidJson("the body must be a JSON object");
        }

        var requiredInput = RequiredInput(operation);
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var error = ReadField(operation, property, ref fields);
            if (error is not null)
            {
                return error;
            }

            if (property.NameEquals(requiredInput) && value.ValueKind != JsonValueKind.Null)
            {
                fields.HasRequiredInput = true;
            }
        }

        if (string.IsNullOrEmpty(fields.Model))
        {
            return GatewayError.MissingParameter("model");
        }

        if (operation != LlmOperation.Responses && !fields.HasRequiredInput)
        {
            return GatewayError.MissingParameter(requiredInput);
        }

        return null;
    }

    /// <summary>
    /// Reads a top-level field the gateway uses. The name is matched as UTF-8, so that no property of the body becomes
    /// a string only to be compared (<see cref="JsonProperty.Name"/> allocates one each time).
    /// </summary>
    private static GatewayError? ReadField(LlmOperation operation, JsonProperty property, ref Fields fields)
    {
        var value = property.Value;
        if (property.NameEquals("model"u8))
        {
            return ReadString(value, "model", out fields.Model);
        }

        if (property.NameEquals("stream"u8))
        {
            return ReadBoolean(value, "stream", out fields.Stream);
        }

        if (property.NameEquals("stream_options"u8))
        {
            return ReadStreamOptions(value, out fields.IncludeUsage);
        }

        if (property.NameEquals("max_tokens"u8))
        {
            return ReadTokenLimit(value, "max_tokens", ref fields.MaxOutputTokens);
        }

        if (property.NameEquals("max_completion_tokens"u8))
        {
            return ReadTokenLimit(value, "max_completion_tokens", ref fields.MaxOutputTokens);
        }

        if (property.NameEquals("max_output_tokens"u8))
        {
            return ReadTokenLimit(value, "max_output_tokens", ref fields.MaxOutputTokens);
        }

        if (property.NameEquals("temperature"u8))
        {
            return ReadNumber(value, "temperature", out fields.Temperature);
        }

        if (property.NameEquals("user"u8))
        {
            return ReadString(value, "user", out fields.User);
        }

        return operation == LlmOperation.Messages && property.NameEquals("metadata"u8) ? ReadAnthropicUser(value, out fields.User) : null;
    }

    private static string RequiredInput(LlmOperation operation) => operation switch
    {
        LlmOperation.ChatCompletions or LlmOperation.Messages => "messages",
        LlmOperation.Completions => "prompt",
        _ => "input",
    };

    private static GatewayError? ReadString(JsonElement value, string name, out string? result)
    {
        result = null;
        return value.ValueKind switch
        {
            JsonValueKind.String => Assign(value.GetString(), out result),
            JsonValueKind.Null => null,
            _ => GatewayError.InvalidParameter(name, "expected a string."),
        };
    }

    /// <summary>Anthropic names the end user in <c>metadata.user_id</c>.</summary>
    private static GatewayError? ReadAnthropicUser(JsonElement value, out string? user)
    {
        user = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidParameter("metadata", "expected an object.");
        }

        return value.TryGetProperty("user_id"u8, out var userId) ? ReadString(userId, "metadata.user_id", out user) : null;
    }

    private static GatewayError? Assign(string? value, out string? result)
    {
        result = value;
        return null;
    }

    private static GatewayError? ReadBoolean(JsonElement value, string name, out bool result)
    {
        result = value.ValueKind == JsonValueKind.True;
        return value.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null
            ? null
            : GatewayError.InvalidParameter(name, "expected a boolean.");
    }

    private static GatewayError? ReadNumber(JsonElement value, string name, out double? result)
    {
        result = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number))
        {
            return GatewayError.InvalidParameter(name, "expected a number.");
        }

        result = number;
        return null;
    }

    private static GatewayError? ReadTokenLimit(JsonElement value, string name, ref int? limit)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var tokens) || tokens < 1)
        {
            return GatewayError.InvalidParameter(name, "expected a positive integer.");
        }

        // max_completion_tokens supersedes the deprecated max_tokens when a client sends both.
        if (limit is null || name == "max_completion_tokens")
        {
            limit = tokens;
        }

        return null;
    }

    private static GatewayError? ReadStreamOptions(JsonElement value, out bool includeUsage)
    {
        includeUsage = false;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidParameter("stream_options", "expected an object.");
        }

        return value.TryGetProperty("include_usage", out var include)
            ? ReadBoolean(include, "stream_options.include_usage", out includeUsage)
            : null;
    }
}
