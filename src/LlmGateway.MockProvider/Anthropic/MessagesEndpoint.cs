using System.Globalization;
using System.Text;
using System.Text.Json;
using LlmGateway.MockProvider.OpenAI;
using Microsoft.Extensions.Options;

namespace LlmGateway.MockProvider.Anthropic;

/// <summary>
/// <c>POST /v1/messages</c>: the mock in Anthropic's Messages API shape, plain and streamed, with the same knobs as
/// the OpenAI endpoints. Shapes follow Anthropic's "Messages" and "Streaming Messages" references; errors are
/// <c>{"type":"error","error":{"type","message"}}</c>.
/// </summary>
/// <remarks>
/// With <see cref="MockProviderOptions.RequiredApiKey"/> set, requests need the key (<c>x-api-key</c> or a bearer
/// token) and an
/// <c>anthropic-version</c> header, as Anthropic's API does. Token counts follow <see cref="MockText"/>; the system
/// prompt counts as one message.
/// </remarks>
internal sealed class MessagesEndpoint(
    IOptions<MockProviderOptions> options,
    MockProviderStats stats,
    MockSequence sequence,
    TimeProvider timeProvider)
{
    private const string ToolCallArguments = "{}";

    public async Task HandleAsync(HttpContext context)
    {
        stats.Record(context.Request);
        var settings = options.Value;
        var number = sequence.Next();
        context.Response.Headers["request-id"] = string.Create(CultureInfo.InvariantCulture, $"req_mock_{number}");

        if (!MockKnobs.TryResolve(context.Request.Headers, settings, out var knobs, out var knobError))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", knobError!);
            return;
        }

        if (settings.RequiredApiKey is { } requiredKey)
        {
            if (!HasApiKey(context.Request, requiredKey))
            {
                await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "authentication_error", "invalid x-api-key");
                return;
            }

            if (string.IsNullOrEmpty(context.Request.Headers["anthropic-version"].ToString()))
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "anthropic-version: header is required");
                return;
            }
        }

        try
        {
            if (knobs.ErrorStatus is { } status)
            {
                await new MockExchange(context, knobs, number, "", timeProvider).WaitForFirstTokenAsync();
                if (knobs.RetryAfterSeconds is { } seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                }

                var message = string.Create(CultureInfo.InvariantCulture, $"Mock provider error {status} (forced by {MockProviderHeaders.ErrorStatus} or MockProvider:ErrorStatus).");
                await WriteErrorAsync(context, status, knobs.ErrorCode ?? ErrorTypeFor(status), message);
                return;
            }

            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            }
            catch (JsonException)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "The request body is not valid JSON.");
                return;
            }

            using (document)
            {
                await RespondAsync(context, knobs, number, document.RootElement);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-delay or mid-stream; there is nobody left to answer.
        }
        finally
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                stats.RecordCancelled();
            }
        }
    }

    /// <summary>
    /// The key in <c>x-api-key</c> (Anthropic's documented header) or as a bearer token (which the official C# SDK
    /// sends).
    /// </summary>
    private static bool HasApiKey(HttpRequest request, string requiredKey)
    {
        if (string.Equals(request.Headers["x-api-key"].ToString(), requiredKey, StringComparison.Ordinal))
        {
            return true;
        }

        var authorization = request.Headers.Authorization.ToString().AsSpan();
        const string scheme = "Bearer ";
        return authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && authorization[scheme.Length..].Trim().SequenceEqual(requiredKey);
    }

    /// <summary>Anthropic's error type for an HTTP status (Anthropic "Errors").</summary>
    public static string ErrorTypeFor(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    public static async Task WriteErrorAsync(HttpContext context, int status, string type, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = MockJson.ContentType;
        using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "error");
            json.WriteStartObject("error"u8);
            json.WriteString("type"u8, type);
            json.WriteString("message"u8, message);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private async Task RespondAsync(HttpContext context, MockKnobs knobs, long number, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "The request body must be a JSON object.");
            return;
        }

        if (OpenAIRequestReader.GetString(body, "model"u8) is not { Length: > 0 } model)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "model: Field required");
            return;
        }

        if (!body.TryGetProperty("max_tokens"u8, out var maxTokensValue) || maxTokensValue.ValueKind != JsonValueKind.Number
            || !maxTokensValue.TryGetInt32(out var maxTokens) || maxTokens < 1)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "max_tokens: Field required (an integer of at least 1)");
            return;
        }

        if (!body.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "messages: Field required (at least one message)");
            return;
        }

        var promptTokens = 0;
        if (body.TryGetProperty("system"u8, out var system))
        {
            promptTokens += MockText.TokensPerMessage + MockText.CountWords(ReadText(system));
        }

        string? lastRole = null;
        string? lastUserText = null;
        var lastUserHasToolResult = false;
        foreach (var message in messages.EnumerateArray())
        {
            var content = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content"u8, out var value) ? value : default;
            var text = ReadText(content);
            promptTokens += MockText.TokensPerMessage + MockText.CountWords(text);
            lastRole = OpenAIRequestReader.GetString(message, "role"u8);
            if (lastRole == "user")
            {
                lastUserText = text;
                lastUserHasToolResult = HasBlock(content, "tool_result");
            }
        }

        // Like the OpenAI endpoint: a tool is called once per user question, not again after its result came back.
        var toolName = knobs.ToolCall is { } name && lastRole == "user" && !lastUserHasToolResult && OpenAIRequestReader.HasNonEmptyArray(body, "tools"u8)
            ? name
            : null;
        var answer = toolName is null ? MockAnswer.Create(lastUserText, knobs, maxTokens) : null;
        var reply = new Reply(new MockExchange(context, knobs, number, model, timeProvider), promptTokens, answer, toolName);

        await reply.Exchange.WaitForFirstTokenAsync();
        if (OpenAIRequestReader.GetBool(body, "stream"u8))
        {
            await StreamAsync(reply);
        }
        else
        {
            await WriteMessageAsync(reply);
        }
    }

    /// <summary>A string, or the text of every text block (tool results included), joined by new lines.</summary>
    private static string ReadText(JsonElement content)
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
            var piece = OpenAIRequestReader.GetString(block, "type"u8) switch
            {
                "text" => OpenAIRequestReader.GetString(block, "text"u8),
                "tool_result" when block.TryGetProperty("content"u8, out var result) => ReadText(result),
                _ => null,
            };
            if (piece is null)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(piece);
        }

        return text.ToString();
    }

    private static bool HasBlock(JsonElement content, string type)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var block in content.EnumerateArray())
        {
            if (OpenAIRequestReader.GetString(block, "type"u8) == type)
            {
                return true;
            }
        }

        return false;
    }

    private static async Task WriteMessageAsync(Reply reply)
    {
        var context = reply.Exchange.Context;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = MockJson.ContentType;
        using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, reply.Id);
            json.WriteString("type"u8, "message");
            json.WriteString("role"u8, "assistant");
            json.WriteString("model"u8, reply.Exchange.Model);
            json.WriteStartArray("content"u8);
            json.WriteStartObject();
            if (reply.ToolName is { } toolName)
            {
                json.WriteString("type"u8, "tool_use");
                json.WriteString("id"u8, reply.ToolUseId);
                json.WriteString("name"u8, toolName);
                json.WriteStartObject("input"u8);
                json.WriteEndObject();
            }
            else
            {
                json.WriteString("type"u8, "text");
                json.WriteString("text"u8, reply.Answer!.Text);
            }

            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteString("stop_reason"u8, reply.StopReason);
            json.WriteNull("stop_sequence"u8);
            WriteUsage(json, reply.PromptTokens, reply.CompletionTokens);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static void WriteUsage(Utf8JsonWriter json, int inputTokens, int outputTokens)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("input_tokens"u8, inputTokens);
        json.WriteNumber("cache_creation_input_tokens"u8, 0);
        json.WriteNumber("cache_read_input_tokens"u8, 0);
        json.WriteNumber("output_tokens"u8, outputTokens);
        json.WriteEndObject();
    }

    /// <summary>The event flow Anthropic documents: message_start, one content block (start, ping, deltas, stop), message_delta, message_stop.</summary>
    private static async Task StreamAsync(Reply reply)
    {
        var exchange = reply.Exchange;
        using var events = ServerSentEventsWriter.Start(exchange.Context.Response);

        var json = events.BeginEvent("message_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_start");
        json.WriteStartObject("message"u8);
        json.WriteString("id"u8, reply.Id);
        json.WriteString("type"u8, "message");
        json.WriteString("role"u8, "assistant");
        json.WriteString("model"u8, exchange.Model);
        json.WriteStartArray("content"u8);
        json.WriteEndArray();
        json.WriteNull("stop_reason"u8);
        json.WriteNull("stop_sequence"u8);
        WriteUsage(json, reply.PromptTokens, 1);
        json.WriteEndObject();
        json.WriteEndObject();
        if (!await events.EndEventAsync())
        {
            return;
        }

        json = events.BeginEvent("content_block_start"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_start");
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("content_block"u8);
        if (reply.ToolName is { } toolName)
        {
            json.WriteString("type"u8, "tool_use");
            json.WriteString("id"u8, reply.ToolUseId);
            json.WriteString("name"u8, toolName);
            json.WriteStartObject("input"u8);
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("type"u8, "text");
            json.WriteString("text"u8, "");
        }

        json.WriteEndObject();
        json.WriteEndObject();
        if (!await events.EndEventAsync())
        {
            return;
        }

        json = events.BeginEvent("ping"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "ping");
        json.WriteEndObject();
        if (!await events.EndEventAsync())
        {
            return;
        }

        var tokens = reply.Answer?.Tokens;
        var tokenCount = tokens?.Length ?? 1;
        for (var i = 0; i < tokenCount; i++)
        {
            exchange.FailIfDue(i);
            if (i > 0)
            {
                await exchange.WaitBetweenTokensAsync();
            }

            json = events.BeginEvent("content_block_delta"u8);
            json.WriteStartObject();
            json.WriteString("type"u8, "content_block_delta");
            json.WriteNumber("index"u8, 0);
            json.WriteStartObject("delta"u8);
            if (tokens is null)
            {
                json.WriteString("type"u8, "input_json_delta");
                json.WriteString("partial_json"u8, ToolCallArguments);
            }
            else
            {
                json.WriteString("type"u8, "text_delta");
                json.WriteString("text"u8, tokens[i]);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            if (!await events.EndEventAsync())
            {
                return;
            }
        }

        exchange.FailIfDue(tokenCount);

        json = events.BeginEvent("content_block_stop"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "content_block_stop");
        json.WriteNumber("index"u8, 0);
        json.WriteEndObject();
        if (!await events.EndEventAsync())
        {
            return;
        }

        json = events.BeginEvent("message_delta"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_delta");
        json.WriteStartObject("delta"u8);
        json.WriteString("stop_reason"u8, reply.StopReason);
        json.WriteNull("stop_sequence"u8);
        json.WriteEndObject();
        json.WriteStartObject("usage"u8);
        json.WriteNumber("output_tokens"u8, reply.CompletionTokens);
        json.WriteEndObject();
        json.WriteEndObject();
        if (!await events.EndEventAsync())
        {
            return;
        }

        json = events.BeginEvent("message_stop"u8);
        json.WriteStartObject();
        json.WriteString("type"u8, "message_stop");
        json.WriteEndObject();
        await events.EndEventAsync();
    }

    /// <summary>Everything needed to write the answer, computed before the first byte goes out.</summary>
    private sealed class Reply(MockExchange exchange, int promptTokens, MockAnswer? answer, string? toolName)
    {
        public MockExchange Exchange { get; } = exchange;

        public int PromptTokens { get; } = promptTokens;

        public MockAnswer? Answer { get; } = answer;

        public string? ToolName { get; } = toolName;

        public string Id => string.Create(CultureInfo.InvariantCulture, $"msg_mock_{Exchange.Sequence}");

        public string ToolUseId => string.Create(CultureInfo.InvariantCulture, $"toolu_mock_{Exchange.Sequence}");

        // A tool call's answer is its "{}" input, counted as one output token, as on the OpenAI endpoint.
        public int CompletionTokens => Answer?.TokenCount ?? 1;

        public string StopReason => Answer switch
        {
            null => "tool_use",
            { Truncated: true } => "max_tokens",
            _ => "end_turn",
        };
    }
}
