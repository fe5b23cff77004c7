using System.Globalization;
using System.Text.Json;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary>Error responses in OpenAI's shape: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class OpenAIErrors
{
    public const string InvalidRequest = "invalid_request_error";

    public static async Task WriteAsync(HttpContext context, int status, string message, string type, string? code, string? param = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = MockJson.ContentType;

        using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("error"u8);
            json.WriteString("message"u8, message);
            json.WriteString("type"u8, type);
            json.WriteString("param"u8, param);
            json.WriteString("code"u8, code);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public static Task WriteInvalidRequestAsync(HttpContext context, string message, string? param = null, string? code = null) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, message, InvalidRequest, code, param);

    public static Task WriteMissingParameterAsync(HttpContext context, string param) =>
        WriteInvalidRequestAsync(context, $"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static Task WriteInvalidApiKeyAsync(HttpContext context, bool keyPresent) =>
        WriteAsync(
            context,
            StatusCodes.Status401Unauthorized,
            keyPresent ? "Incorrect API key provided." : "You didn't provide an API key. Provide it in the Authorization header (Bearer auth).",
            InvalidRequest,
            "invalid_api_key");

    /// <summary>The error a test asked for with <c>x-mock-error-status</c> or <see cref="MockProviderOptions.ErrorStatus"/>.</summary>
    public static Task WriteForcedAsync(HttpContext context, int status, string? code, int? retryAfterSeconds)
    {
        var (type, defaultCode) = status switch
        {
            StatusCodes.Status401Unauthorized => (InvalidRequest, "invalid_api_key"),
            StatusCodes.Status429TooManyRequests => ("rate_limit_exceeded", "rate_limit_exceeded"),
            >= 500 => ("server_error", "server_error"),
            _ => (InvalidRequest, InvalidRequest),
        };

        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        var message = string.Create(CultureInfo.InvariantCulture, $"Mock provider error {status} (forced by {MockProviderHeaders.ErrorStatus}, MockProvider:ErrorStatus or MockProvider:FailNextRequests).");
        return WriteAsync(context, status, message, type, code ?? defaultCode);
    }
}
