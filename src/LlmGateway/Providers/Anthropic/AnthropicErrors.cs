using System.Buffers;
using System.Text.Json;
using LlmGateway.Errors;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Providers.Anthropic;

/// <summary>
/// Errors between Anthropic's shape <c>{"type":"error","error":{"type","message"}}</c> (Anthropic "Errors" docs) and
/// OpenAI's <c>{"error":{"message","type","param","code"}}</c>.
/// </summary>
/// <remarks>
/// Statuses are kept, with one exception: Anthropic's non-standard 529 <c>overloaded_error</c> becomes
/// 503 <c>server_error</c> with code <c>overloaded</c>, a status every HTTP client and the OpenAI SDKs treat as
/// "temporarily unavailable, retry". In the other direction OpenAI statuses map to Anthropic's error types
/// (503 to <c>overloaded_error</c>, other 5xx to <c>api_error</c>), keeping the status.
/// </remarks>
internal static class AnthropicErrors
{
    public const int OverloadedStatus = 529;

    /// <summary>Translates an Anthropic error response (status and body) into the OpenAI error the client gets.</summary>
    public static GatewayError ToOpenAi(int status, ReadOnlySpan<byte> body)
    {
        var (type, message) = ReadAnthropicError(body);
        return ToOpenAi(status, type, message);
    }

    public static GatewayError ToOpenAi(int status, string? anthropicType, string? message)
    {
        message ??= "The upstream provider returned an error.";
        return anthropicType switch
        {
            "invalid_request_error" => new(StatusOr(status, 400), message, GatewayError.InvalidRequest, null),
            "authentication_error" => new(StatusOr(status, 401), message, GatewayError.InvalidRequest, "invalid_api_key"),
            "billing_error" => new(StatusOr(status, 402), message, GatewayError.InvalidRequest, "insufficient_quota"),
            "permission_error" => new(StatusOr(status, 403), message, GatewayError.InvalidRequest, "permission_denied"),
            "not_found_error" => new(StatusOr(status, 404), message, GatewayError.InvalidRequest, "not_found"),
            "request_too_large" => new(StatusOr(status, 413), message, GatewayError.InvalidRequest, "request_too_large"),
            "rate_limit_error" => new(StatusOr(status, 429), message, "rate_limit_exceeded", "rate_limit_exceeded"),
            "timeout_error" => new(StatusOr(status, 504), message, GatewayError.ServerError, "timeout"),
            "overloaded_error" => new(StatusCodes.Status503ServiceUnavailable, message, GatewayError.ServerError, "overloaded"),
            "api_error" => new(StatusOr(status, 500), message, GatewayError.ServerError, null),
            _ when status == OverloadedStatus => new(StatusCodes.Status503ServiceUnavailable, message, GatewayError.ServerError, "overloaded"),
            _ when status >= 500 => new(status, message, GatewayError.ServerError, null),
            _ => new(status is >= 400 and < 500 ? status : 502, message, GatewayError.InvalidRequest, null),
        };
    }

    /// <summary>The Anthropic error type for an OpenAI-shaped error status.</summary>
    public static string TypeForStatus(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or OverloadedStatus => "overloaded_error",
        504 => "timeout_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>Translates an OpenAI error body into Anthropic's shape, keeping the message.</summary>
    public static void WriteFromOpenAi(int status, ReadOnlySpan<byte> openAiBody, IBufferWriter<byte> output)
    {
        string? message = null;
        try
        {
            var reader = new Utf8JsonReader(openAiBody);
            using var document = JsonDocument.ParseValue(ref reader);
            if (TranslationJson.TryGet(document.RootElement, "error"u8, JsonValueKind.Object, out var error))
            {
                message = TranslationJson.GetString(error, "message"u8);
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the status alone still tells the client what happened.
        }

        WriteAnthropicError(output, TypeForStatus(status), message ?? $"The upstream provider returned HTTP {status}.");
    }

    /// <summary>Writes <c>{"type":"error","error":{"type","message"}}</c>.</summary>
    public static void WriteAnthropicError(IBufferWriter<byte> output, string type, string message)
    {
        using var json = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        WriteAnthropicError(json, type, message);
    }

    public static void WriteAnthropicError(Utf8JsonWriter json, string type, string message)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "error");
        json.WriteStartObject("error"u8);
        json.WriteString("type"u8, type);
        json.WriteString("message"u8, message);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static (string? Type, string? Message) ReadAnthropicError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (TranslationJson.TryGet(document.RootElement, "error"u8, JsonValueKind.Object, out var error))
            {
                return (TranslationJson.GetString(error, "type"u8), TranslationJson.GetString(error, "message"u8));
            }
        }
        catch (JsonException)
        {
            // Fall through: the status decides.
        }

        return (null, null);
    }

    private static int StatusOr(int status, int expected) => status is >= 400 and <= 599 && status != OverloadedStatus ? status : expected;
}
