using System.Globalization;
using System.Text.Json;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary><c>POST /v1/chat/completions</c>, plain and streamed, with text or a tool call as the answer.</summary>
internal sealed class ChatCompletionsEndpoint(OpenAIRequestRunner runner)
{
    private const string SystemFingerprint = "fp_mock";

    // A tool call's answer is its "{}" arguments, counted as one completion token.
    private const int ToolCallTokens = 1;

    private static readonly OpenAIResponder Respond = RespondAsync;

    public Task HandleAsync(HttpContext context) => runner.RunAsync(context, Respond);

    private static async Task RespondAsync(MockExchange exchange, JsonElement body)
    {
        var context = exchange.Context;
        if (!body.TryGetProperty("messages"u8, out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            await OpenAIErrors.WriteMissingParameterAsync(context, "messages");
            return;
        }

        var promptTokens = 0;
        string? lastRole = null;
        string? lastUserText = null;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                await OpenAIErrors.WriteInvalidRequestAsync(context, "Invalid 'messages': every message must be an object.", "messages");
                return;
            }

            var text = OpenAIRequestReader.ReadContentText(message);
            promptTokens += MockText.TokensPerMessage + MockText.CountWords(text);
            lastRole = OpenAIRequestReader.GetString(message, "role"u8);
            if (lastRole == "user")
            {
                lastUserText = text;
            }
        }

        var (valid, maxTokens) = await OpenAIRequestReader.TryReadMaxTokensAsync(context, body);
        if (!valid)
        {
            return;
        }

        var toolName = exchange.Knobs.ToolCall is { } name && lastRole == "user" && OpenAIRequestReader.HasNonEmptyArray(body, "tools"u8)
            ? name
            : null;
        var answer = toolName is null ? MockAnswer.Create(lastUserText, exchange.Knobs, maxTokens) : null;
        var completion = new Completion(exchange, promptTokens, answer, toolName);

        await exchange.WaitForFirstTokenAsync();
        if (OpenAIRequestReader.GetBool(body, "stream"u8))
        {
            await StreamAsync(completion, OpenAIRequestReader.IncludeUsage(body));
        }
        else
        {
            await WriteCompletionAsync(completion);
        }
    }

    private static async Task WriteCompletionAsync(Completion completion)
    {
        var response = completion.Exchange.Context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = MockJson.ContentType;

        using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
        {
            WriteHeader(json, completion, "chat.completion");
            json.WriteStartArray("choices"u8);
            json.WriteStartObject();
            json.WriteNumber("index"u8, 0);
            json.WriteStartObject("message"u8);
            json.WriteString("role"u8, "assistant");
            if (completion.ToolName is { } toolName)
            {
                json.WriteNull("content"u8);
                json.WriteNull("refusal"u8);
                json.WriteStartArray("annotations"u8);
                json.WriteEndArray();
                json.WriteStartArray("tool_calls"u8);
                json.WriteStartObject();
                json.WriteString("id"u8, completion.ToolCallId);
                json.WriteString("type"u8, "function");
                json.WriteStartObject("function"u8);
                json.WriteString("name"u8, toolName);
                json.WriteString("arguments"u8, "{}");
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
            }
            else
            {
                json.WriteString("content"u8, completion.Answer!.Text);
                json.WriteNull("refusal"u8);
                json.WriteStartArray("annotations"u8);
                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteNull("logprobs"u8);
            json.WriteString("finish_reason"u8, completion.FinishReason);
            json.WriteEndObject();
            json.WriteEndArray();
            WriteUsage(json, completion);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(completion.Exchange.Context.RequestAborted);
    }

    private static async Task StreamAsync(Completion completion, bool includeUsage)
    {
        var exchange = completion.Exchange;
        using var events = ServerSentEventsWriter.Start(exchange.Context.Response);

        // The opening chunk names the role (and, for a tool call, the function), as OpenAI's does.
        var json = events.BeginEvent();
        WriteChunkStart(json, completion);
        json.WriteString("role"u8, "assistant");
        if (completion.ToolName is { } toolName)
        {
            json.WriteNull("content"u8);
            json.WriteStartArray("tool_calls"u8);
            json.WriteStartObject();
            json.WriteNumber("index"u8, 0);
            json.WriteString("id"u8, completion.ToolCallId);
            json.WriteString("type"u8, "function");
            json.WriteStartObject("function"u8);
            json.WriteString("name"u8, toolName);
            json.WriteString("arguments"u8, "");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
        }
        else
        {
            json.WriteString("content"u8, "");
        }

        json.WriteNull("refusal"u8);
        WriteChunkEnd(json, finishReason: null, includeUsage);
        if (!await events.EndEventAsync())
        {
            return;
        }

        var tokens = completion.Answer?.Tokens;
        var tokenCount = tokens?.Length ?? ToolCallTokens;
        for (var i = 0; i < tokenCount; i++)
        {
            exchange.FailIfDue(i);

            if (i > 0)
            {
                await exchange.WaitBetweenTokensAsync();
            }

            json = events.BeginEvent();
            WriteChunkStart(json, completion);
            if (tokens is null)
            {
                json.WriteStartArray("tool_calls"u8);
                json.WriteStartObject();
                json.WriteNumber("index"u8, 0);
                json.WriteStartObject("function"u8);
                json.WriteString("arguments"u8, "{}");
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
            }
            else
            {
                json.WriteString("content"u8, tokens[i]);
            }

            WriteChunkEnd(json, finishReason: null, includeUsage);
            if (!await events.EndEventAsync())
            {
                return;
            }
        }

        exchange.FailIfDue(tokenCount);

        json = events.BeginEvent();
        WriteChunkStart(json, completion);
        WriteChunkEnd(json, completion.FinishReason, includeUsage);
        if (!await events.EndEventAsync())
        {
            return;
        }

        if (includeUsage)
        {
            json = events.BeginEvent();
            WriteHeader(json, completion, "chat.completion.chunk");
            json.WriteStartArray("choices"u8);
            json.WriteEndArray();
            WriteUsage(json, completion);
            json.WriteEndObject();
            if (!await events.EndEventAsync())
            {
                return;
            }
        }

        await events.WriteDoneAsync();
    }

    private static void WriteHeader(Utf8JsonWriter json, Completion completion, string objectType)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, completion.Id);
        json.WriteString("object"u8, objectType);
        json.WriteNumber("created"u8, completion.Exchange.CreatedUnixSeconds);
        json.WriteString("model"u8, completion.Exchange.Model);
        json.WriteString("service_tier"u8, "default");
        json.WriteString("system_fingerprint"u8, SystemFingerprint);
    }

    private static void WriteChunkStart(Utf8JsonWriter json, Completion completion)
    {
        WriteHeader(json, completion, "chat.completion.chunk");
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteNumber("index"u8, 0);
        json.WriteStartObject("delta"u8);
    }

    private static void WriteChunkEnd(Utf8JsonWriter json, string? finishReason, bool includeUsage)
    {
        json.WriteEndObject();
        json.WriteNull("logprobs"u8);
        json.WriteString("finish_reason"u8, finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        if (includeUsage)
        {
            json.WriteNull("usage"u8);
        }

        json.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter json, Completion completion)
    {
        completion.Exchange.Context.RequestServices.GetRequiredService<MockProviderStats>()
            .RecordUsageReported(completion.PromptTokens, completion.CompletionTokens);
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, completion.PromptTokens);
        json.WriteNumber("completion_tokens"u8, completion.CompletionTokens);
        json.WriteNumber("total_tokens"u8, completion.PromptTokens + completion.CompletionTokens);
        json.WriteStartObject("prompt_tokens_details"u8);
        json.WriteNumber("cached_tokens"u8, 0);
        json.WriteNumber("audio_tokens"u8, 0);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details"u8);
        json.WriteNumber("reasoning_tokens"u8, 0);
        json.WriteNumber("audio_tokens"u8, 0);
        json.WriteNumber("accepted_prediction_tokens"u8, 0);
        json.WriteNumber("rejected_prediction_tokens"u8, 0);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Everything needed to write the answer, computed once before the first byte goes out.</summary>
    private sealed class Completion(MockExchange exchange, int promptTokens, MockAnswer? answer, string? toolName)
    {
        public MockExchange Exchange { get; } = exchange;

        public int PromptTokens { get; } = promptTokens;

        /// <summary>The text answer; null when the answer is a tool call.</summary>
        public MockAnswer? Answer { get; } = answer;

        public string? ToolName { get; } = toolName;

        public string Id { get; } = string.Create(CultureInfo.InvariantCulture, $"chatcmpl-mock-{exchange.Sequence}");

        public string ToolCallId => string.Create(CultureInfo.InvariantCulture, $"call_mock_{Exchange.Sequence}");

        public int CompletionTokens => Answer?.TokenCount ?? ToolCallTokens;

        public string FinishReason => Answer switch
        {
            null => "tool_calls",
            { Truncated: true } => "length",
            _ => "stop",
        };
    }
}
