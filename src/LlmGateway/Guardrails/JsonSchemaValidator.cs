using System.Text.Json;

namespace LlmGateway.Guardrails;

/// <summary>
/// Validates JSON against the subset of JSON Schema that structured outputs use in practice: <c>type</c> (one or
/// several), <c>properties</c>, <c>required</c>, <c>additionalProperties</c> (false or a schema), <c>items</c>,
/// <c>enum</c>, <c>const</c> and <c>anyOf</c>. Other keywords (<c>$ref</c>, formats, numeric and length bounds) are not
/// checked. Errors name the path that failed, never the value.
/// </summary>
internal static class JsonSchemaValidator
{
    /// <summary>Null when <paramref name="value"/> satisfies <paramref name="schema"/>; otherwise where and why it does not.</summary>
    public static string? Validate(JsonElement schema, JsonElement value) => Validate(schema, value, "$");

    private static string? Validate(JsonElement schema, JsonElement value, string path)
    {
        if (schema.ValueKind == JsonValueKind.False)
        {
            return $"{path}: not allowed";
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (schema.TryGetProperty("type"u8, out var type) && !MatchesType(type, value))
        {
            return $"{path}: expected {type.GetRawText()}";
        }

        if (schema.TryGetProperty("enum"u8, out var allowed) && allowed.ValueKind == JsonValueKind.Array && !Contains(allowed, value))
        {
            return $"{path}: not one of the allowed values";
        }

        if (schema.TryGetProperty("const"u8, out var constant) && !JsonElement.DeepEquals(constant, value))
        {
            return $"{path}: not the constant value";
        }

        if (schema.TryGetProperty("anyOf"u8, out var anyOf) && anyOf.ValueKind == JsonValueKind.Array && !MatchesAny(anyOf, value, path))
        {
            return $"{path}: matches none of anyOf";
        }

        return value.ValueKind switch
        {
            JsonValueKind.Object => ValidateObject(schema, value, path),
            JsonValueKind.Array when schema.TryGetProperty("items"u8, out var items) => ValidateItems(items, value, path),
            _ => null,
        };
    }

    private static string? ValidateObject(JsonElement schema, JsonElement value, string path)
    {
        var hasProperties = schema.TryGetProperty("properties"u8, out var properties) && properties.ValueKind == JsonValueKind.Object;
        if (schema.TryGetProperty("required"u8, out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray())
            {
                if (name.ValueKind == JsonValueKind.String && !value.TryGetProperty(name.GetString()!, out _))
                {
                    return $"{path}: missing required property '{name.GetString()}'";
                }
            }
        }

        schema.TryGetProperty("additionalProperties"u8, out var additional);
        foreach (var property in value.EnumerateObject())
        {
            var propertyPath = path + "." + property.Name;
            if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                if (Validate(propertySchema, property.Value, propertyPath) is { } error)
                {
                    return error;
                }
            }
            else if (additional.ValueKind == JsonValueKind.False)
            {
                return $"{propertyPath}: additional property not allowed";
            }
            else if (additional.ValueKind == JsonValueKind.Object && Validate(additional, property.Value, propertyPath) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static string? ValidateItems(JsonElement items, JsonElement value, string path)
    {
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (Validate(items, item, $"{path}[{index++}]") is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static bool MatchesAny(JsonElement schemas, JsonElement value, string path)
    {
        foreach (var schema in schemas.EnumerateArray())
        {
            if (Validate(schema, value, path) is null)
            {
                return true;
            }
        }

        return false;
    }

    private static bool MatchesType(JsonElement type, JsonElement value)
    {
        if (type.ValueKind == JsonValueKind.String)
        {
            return MatchesType(type.GetString(), value);
        }

        if (type.ValueKind == JsonValueKind.Array)
        {
            foreach (var candidate in type.EnumerateArray())
            {
                if (candidate.ValueKind == JsonValueKind.String && MatchesType(candidate.GetString(), value))
                {
                    return true;
                }
            }

            return false;
        }

        return true;
    }

    private static bool MatchesType(string? type, JsonElement value) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) && decimal.Truncate(number) == number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static bool Contains(JsonElement allowed, JsonElement value)
    {
        foreach (var candidate in allowed.EnumerateArray())
        {
            if (JsonElement.DeepEquals(candidate, value))
            {
                return true;
            }
        }

        return false;
    }
}
