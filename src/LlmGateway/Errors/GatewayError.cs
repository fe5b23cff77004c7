using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmGateway.Errors;

/// <summary>
/// An error the gateway itself answers with, in OpenAI's shape
/// <c>{"error":{"message","type","param","code"}}</c> so that OpenAI SDKs surface it like any API error.
/// Messages never carry credentials or request content.
/// </summary>
public sealed record GatewayError(int StatusCode, string Message, string Type, string? Code, string? Param = null)
{
    public const string InvalidRequest = "invalid_request_error";
    public const string ServerError = "server_error";

    public static GatewayError InvalidJson(string detail) =>
        new(StatusCodes.Status400BadRequest, $"We could not parse the JSON body of your request. ({detail})", InvalidRequest, "invalid_json");

    public static GatewayError MissingParameter(string param) =>
        new(StatusCodes.Status400BadRequest, $"you must provide a '{param}' parameter", InvalidRequest, "missing_required_parameter", param);

    public static GatewayError InvalidParameter(string param, string expectation) =>
        new(StatusCodes.Status400BadRequest, $"Invalid value for '{param}': {expectation}", InvalidRequest, "invalid_value", param);

    public static GatewayError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist or you do not have access to it.", InvalidRequest, "model_not_found", "model");

    public static GatewayError MissingApiKey() =>
        new(StatusCodes.Status401Unauthorized,
            "You didn't provide an API key. Send your virtual key in an 'Authorization: Bearer <key>' header (or 'api-key' / 'x-api-key').",
            InvalidRequest, "invalid_api_key");

    public static GatewayError InvalidApiKey() =>
        new(StatusCodes.Status401Unauthorized, "Incorrect API key provided.", InvalidRequest, "invalid_api_key");

    public static GatewayError LoopbackOnly() =>
        new(StatusCodes.Status401Unauthorized,
            "This gateway has no virtual keys configured, so it serves loopback clients only. Configure Gateway:VirtualKeys to serve other clients.",
            InvalidRequest, "invalid_api_key");

    public static GatewayError BodyTooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the gateway's limit of {limit} bytes.", InvalidRequest, "request_too_large");

    public static GatewayError UnknownUrl(string method, string path) =>
        new(StatusCodes.Status404NotFound, $"Unknown request URL: {method} {path}.", InvalidRequest, "unknown_url");

    public static GatewayError MethodNotAllowed(string method, string path) =>
        new(StatusCodes.Status405MethodNotAllowed, $"Method {method} is not allowed for {path}.", InvalidRequest, "method_not_allowed");

    public static GatewayError UpstreamUnreachable(string provider) =>
        new(StatusCodes.Status502BadGateway, $"The gateway could not reach provider '{provider}'.", ServerError, "upstream_unreachable");

    public static GatewayError UpstreamTimeout(string provider) =>
        new(StatusCodes.Status504GatewayTimeout, $"Provider '{provider}' did not answer in time.", ServerError, "upstream_timeout");

    public static GatewayError UpstreamFailed(string provider) =>
        new(StatusCodes.Status502BadGateway, $"The response from provider '{provider}' failed before it completed.", ServerError, "upstream_error");

    public static GatewayError ProviderUnavailable(string provider) =>
        new(StatusCodes.Status503ServiceUnavailable, $"Provider '{provider}' is not available yet.", ServerError, "provider_unavailable");

    public static GatewayError DeploymentsUnavailable(string model) =>
        new(StatusCodes.Status503ServiceUnavailable,
            $"No deployment of model '{model}' can take requests right now: each is failing and out of rotation, or not started. Try again shortly.",
            ServerError, "deployments_unavailable");

    public static GatewayError Internal() =>
        new(StatusCodes.Status500InternalServerError, "The gateway failed to process the request. The failure has been logged.", ServerError, "internal_error");

    /// <summary>A fallback for an empty error status produced by the framework.</summary>
    public static GatewayError ForStatus(int statusCode, string method, string path) => statusCode switch
    {
        StatusCodes.Status404NotFound => UnknownUrl(method, path),
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed(method, path),
        StatusCodes.Status413PayloadTooLarge => new(statusCode, "The request body is too large.", InvalidRequest, "request_too_large"),
        >= 500 => new(statusCode, "The gateway failed to process the request.", ServerError, null),
        _ => new(statusCode, "The request was rejected.", InvalidRequest, null),
    };

    // Error JSON is never embedded in HTML, so quotes and apostrophes in messages need no escaping.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes the error as the response. Clients of the Anthropic-compatible <c>/v1/messages</c> get it in Anthropic's
    /// shape, <c>{"type":"error","error":{"type","message"}}</c>, so their SDK reads it as an API error. The error also
    /// becomes a request feature, so that the request's log line can name its code.
    /// </summary>
    public Task WriteAsync(HttpResponse response)
    {
        response.HttpContext.Features.Set(this);
        response.StatusCode = StatusCode;
        response.ContentType = "application/json";
        var buffer = new ArrayBufferWriter<byte>(256);
        if (response.HttpContext.Request.Path.StartsWithSegments(AnthropicMessagesPath, StringComparison.OrdinalIgnoreCase))
        {
            Providers.Anthropic.AnthropicErrors.WriteAnthropicError(buffer, Providers.Anthropic.AnthropicErrors.TypeForStatus(StatusCode), Message);
        }
        else
        {
            WriteTo(buffer);
        }

        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    /// <summary>The path of the Anthropic-compatible endpoint, whose errors are written in Anthropic's shape.</summary>
    public const string AnthropicMessagesPath = "/v1/messages";

    public void WriteTo(IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        WriteTo(writer);
    }

    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", Message);
        writer.WriteString("type", Type);
        WriteNullable(writer, "param", Param);
        WriteNullable(writer, "code", Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
