using System.Globalization;
using System.Text.Json;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary>
/// <c>POST /v1/responses</c>: the text subset of OpenAI's Responses API, plain and streamed as typed events.
/// A <c>max_output_tokens</c> cap below the answer's length ends the response as <c>incomplete</c>, as OpenAI does.
/// </summary>
internal sealed class ResponsesEndpoint(OpenAIRequestRunner runner)
{
    private static readonly OpenAIResponder Respond = RespondAsync;

    public Task HandleAsync(HttpContext context) => runner.RunAsync(context, Respond);

    private static async Task RespondAsync(MockExchange exchange, JsonElement body)
    {
        var context = exchange.Context;
        var instructions = OpenAIRequestReader.GetString(body, "instructions"u8);

        // Prompt tokens follow the chat rule: instructions count as a system message, each input item as a message.
        var promptTokens = instructions is null ? 0 : MockText.TokensPerMessage + MockText.CountWords(instructions);
        string? lastUserText = null;
        if (body.TryGetProperty("input"u8, out var input))
        {
            switch (input.ValueKind)
            {
                case JsonValueKind.String:
                    lastUserText = input.GetString()!;
                    promptTokens += MockText.TokensPerMessage + MockText.CountWords(lastUserText);
                    break;
                case JsonValueKind.Array:
                    foreach (var item in input.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Object)
                        {
                            await OpenAIErrors.WriteInvalidRequestAsync(context, "Invalid 'input': every input item must be an object.", "input");
                            return;
                        }

                        var text = OpenAIRequestReader.ReadContentText(item);
                        promptTokens += MockText.TokensPerMessage + MockText.CountWords(text);
                        if (OpenAIRequestReader.GetString(item, "role"u8) == "user")
                        {
                            lastUserText = text;
                        }
                    }

                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    await OpenAIErrors.WriteInvalidRequestAsync(context, "Invalid 'input': expected a string or an array of input items.", "input");
                    return;
            }
        }

        var (valid, maxOutputTokens) = await OpenAIRequestReader.TryReadPositiveIntAsync(context, body, "max_output_tokens");
        if (!valid)
        {
            return;
        }

        var response = new MockResponse(
            exchange, promptTokens, MockAnswer.Create(lastUserText, exchange.Knobs, maxOutputTokens), instructions, maxOutputTokens);

        await exchange.WaitForFirstTokenAsync();
        if (OpenAIRequestReader.GetBool(body, "stream"u8))
        {
            await StreamAsync(response);
        }
        else
        {
            await WriteResponseAsync(response);
        }
    }

    private static async Task WriteResponseAsync(MockResponse response)
    {
        var http = response.Exchange.Context.Response;
        http.StatusCode = StatusCodes.Status200OK;
        http.ContentType = MockJson.ContentType;

        using (var json = new Utf8JsonWriter(http.BodyWriter, MockJson.WriterOptions))
        {
            WriteResponseObject(json, response, finished: true);
        }

        await http.BodyWriter.FlushAsync(response.Exchange.Context.RequestAborted);
    }

    private static async Task StreamAsync(MockResponse response)
    {
        var exchange = response.Exchange;
        using var events = ServerSentEventsWriter.Start(exchange.Context.Response);
        var sequenceNumber = 0;

        var json = BeginEvent(events, "response.created"u8, ref sequenceNumber);
        json.WritePropertyName("response"u8);
        WriteResponseObject(json, response, finished: false);
        if (!await EndEventAsync(events, json))
        {
            return;
        }

        json = BeginEvent(events, "response.in_progress"u8, ref sequenceNumber);
        json.WritePropertyName("response"u8);
        WriteResponseObject(json, response, finished: false);
        if (!await EndEventAsync(events, json))
        {
            return;
        }

        json = BeginEvent(events, "response.output_item.added"u8, ref sequenceNumber);
        json.WriteNumber("output_index"u8, 0);
        json.WritePropertyName("item"u8);
        WriteMessageItem(json, response, finished: false);
        if (!await EndEventAsync(events, json))
        {
            return;
        }

        json = BeginContentEvent(events, "response.content_part.added"u8, response, ref sequenceNumber);
        json.WritePropertyName("part"u8);
        WriteOutputText(json, "");
        if (!await EndEventAsync(events, json))
        {
            return;
        }

        var tokens = response.Answer.Tokens;
        for (var i = 0; i < tokens.Length; i++)
        {
            exchange.FailIfDue(i);

            if (i > 0)
            {
                await exchange.WaitBetweenTokensAsync();
            }

            json = BeginContentEvent(events, "response.output_text.delta"u8, response, ref sequenceNumber);
            json.WriteString("delta"u8, tokens[i]);
            json.WriteStartArray("logprobs"u8);
            json.WriteEndArray();
            if (!await EndEventAsync(events, json))
            {
                return;
            }
        }

        exchange.FailIfDue(tokens.Length);

        json = BeginContentEvent(events, "response.output_text.done"u8, response, ref sequenceNumber);
        json.WriteString("text"u8, response.Text);
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        if (!await EndEventAsync(events, json))
        {
            return;
        }

        json = BeginContentEvent(events, "response.content_part.done"u8, response, ref sequenceNumber);
        json.WritePropertyName("part"u8);
        WriteOutputText(json, response.Text);
        if (!await EndEventAsync(events, json))
        {
            return;
        }

        json = BeginEvent(events, "response.output_item.done"u8, ref sequenceNumber);
        json.WriteNumber("output_index"u8, 0);
        json.WritePropertyName("item"u8);
        WriteMessageItem(json, response, finished: true);
        if (!await EndEventAsync(events, json))
        {
            return;
        }

        json = BeginEvent(events, response.Answer.Truncated ? "response.incomplete"u8 : "response.completed"u8, ref sequenceNumber);
        json.WritePropertyName("response"u8);
        WriteResponseObject(json, response, finished: true);
        await EndEventAsync(events, json);
    }

    /// <summary>Starts a typed event; the Responses API repeats the event name as <c>type</c> in the payload.</summary>
    private static Utf8JsonWriter BeginEvent(ServerSentEventsWriter events, ReadOnlySpan<byte> type, ref int sequenceNumber)
    {
        var json = events.BeginEvent(type);
        json.WriteStartObject();
        json.WriteString("type"u8, type);
        json.WriteNumber("sequence_number"u8, sequenceNumber++);
        return json;
    }

    private static Utf8JsonWriter BeginContentEvent(ServerSentEventsWriter events, ReadOnlySpan<byte> type, MockResponse response, ref int sequenceNumber)
    {
        var json = BeginEvent(events, type, ref sequenceNumber);
        json.WriteString("item_id"u8, response.MessageId);
        json.WriteNumber("output_index"u8, 0);
        json.WriteNumber("content_index"u8, 0);
        return json;
    }

    private static ValueTask<bool> EndEventAsync(ServerSentEventsWriter events, Utf8JsonWriter json)
    {
        json.WriteEndObject();
        return events.EndEventAsync();
    }

    /// <summary>
    /// The response object. Before it is finished (the created and in-progress events) it has no output and no
    /// usage yet.
    /// </summary>
    private static void WriteResponseObject(Utf8JsonWriter json, MockResponse response, bool finished)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, response.Id);
        json.WriteString("object"u8, "response");
        json.WriteNumber("created_at"u8, response.Exchange.CreatedUnixSeconds);
        json.WriteString("status"u8, !finished ? "in_progress" : response.Answer.Truncated ? "incomplete" : "completed");
        json.WriteBoolean("background"u8, false);
        json.WriteNull("error"u8);
        if (finished && response.Answer.Truncated)
        {
            json.WriteStartObject("incomplete_details"u8);
            json.WriteString("reason"u8, "max_output_tokens");
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("incomplete_details"u8);
        }

        json.WriteString("instructions"u8, response.Instructions);
        if (response.MaxOutputTokens is { } maxOutputTokens)
        {
            json.WriteNumber("max_output_tokens"u8, maxOutputTokens);
        }
        else
        {
            json.WriteNull("max_output_tokens"u8);
        }

        json.WriteString("model"u8, response.Exchange.Model);
        json.WriteStartArray("output"u8);
        if (finished)
        {
            WriteMessageItem(json, response, finished: true);
        }

        json.WriteEndArray();
        json.WriteBoolean("parallel_tool_calls"u8, true);
        json.WriteNull("previous_response_id"u8);
        json.WriteStartObject("reasoning"u8);
        json.WriteNull("effort"u8);
        json.WriteNull("summary"u8);
        json.WriteEndObject();
        json.WriteString("service_tier"u8, "default");
        json.WriteBoolean("store"u8, false);
        json.WriteNumber("temperature"u8, 1.0);
        json.WriteStartObject("text"u8);
        json.WriteStartObject("format"u8);
        json.WriteString("type"u8, "text");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteString("tool_choice"u8, "auto");
        json.WriteStartArray("tools"u8);
        json.WriteEndArray();
        json.WriteNumber("top_p"u8, 1.0);
        json.WriteString("truncation"u8, "disabled");
        if (finished)
        {
            json.WriteStartObject("usage"u8);
            json.WriteNumber("input_tokens"u8, response.PromptTokens);
            json.WriteStartObject("input_tokens_details"u8);
            json.WriteNumber("cached_tokens"u8, 0);
            json.WriteEndObject();
            json.WriteNumber("output_tokens"u8, response.Answer.TokenCount);
            json.WriteStartObject("output_tokens_details"u8);
            json.WriteNumber("reasoning_tokens"u8, 0);
            json.WriteEndObject();
            json.WriteNumber("total_tokens"u8, response.PromptTokens + response.Answer.TokenCount);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("usage"u8);
        }

        json.WriteNull("user"u8);
        json.WriteStartObject("metadata"u8);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteMessageItem(Utf8JsonWriter json, MockResponse response, bool finished)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, response.MessageId);
        json.WriteString("type"u8, "message");
        json.WriteString("status"u8, !finished ? "in_progress" : response.Answer.Truncated ? "incomplete" : "completed");
        json.WriteString("role"u8, "assistant");
        json.WriteStartArray("content"u8);
        if (finished)
        {
            WriteOutputText(json, response.Text);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteOutputText(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type"u8, "output_text");
        json.WriteString("text"u8, text);
        json.WriteStartArray("annotations"u8);
        json.WriteEndArray();
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private sealed class MockResponse(MockExchange exchange, int promptTokens, MockAnswer answer, string? instructions, int? maxOutputTokens)
    {
        public MockExchange Exchange { get; } = exchange;

        public int PromptTokens { get; } = promptTokens;

        public MockAnswer Answer { get; } = answer;

        public string Text { get; } = answer.Text;

        public string? Instructions { get; } = instructions;

        public int? MaxOutputTokens { get; } = maxOutputTokens;

        public string Id { get; } = string.Create(CultureInfo.InvariantCulture, $"resp_mock_{exchange.Sequence}");

        public string MessageId { get; } = string.Create(CultureInfo.InvariantCulture, $"msg_mock_{exchange.Sequence}");
    }
}
