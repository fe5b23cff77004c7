using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary>
/// <c>POST /v1/completions</c>, OpenAI's legacy text completion, plain and streamed. Always one choice: several
/// prompts are answered as one prompt made of all of them.
/// </summary>
internal sealed class CompletionsEndpoint(OpenAIRequestRunner runner)
{
    private const string SystemFingerprint = "fp_mock";

    private static readonly OpenAIResponder Respond = RespondAsync;

    public Task HandleAsync(HttpContext context) => runner.RunAsync(context, Respond);

    private static async Task RespondAsync(MockExchange exchange, JsonElement body)
    {
        var context = exchange.Context;
        if (!TryReadPrompt(body, out var prompt, out var promptTokens))
        {
            await OpenAIErrors.WriteInvalidRequestAsync(
                context, "Invalid 'prompt': expected a string, an array of strings, an array of tokens or an array of token arrays.", "prompt");
            return;
        }

        var (valid, maxTokens) = await OpenAIRequestReader.TryReadPositiveIntAsync(context, body, "max_tokens");
        if (!valid)
        {
            return;
        }

        var completion = new Completion(exchange, promptTokens, MockAnswer.Create(prompt, exchange.Knobs, maxTokens));

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

    /// <summary>
    /// Prompt tokens are the words of the prompt text, or the number of token ids when the prompt is given as ids
    /// (which the mock reads as text of the numbers). A missing prompt is empty, as OpenAI allows.
    /// </summary>
    private static bool TryReadPrompt(JsonElement body, out string prompt, out int promptTokens)
    {
        prompt = "";
        promptTokens = 0;
        if (!body.TryGetProperty("prompt"u8, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            prompt = element.GetString()!;
            promptTokens = MockText.CountWords(prompt);
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var text = new StringBuilder();
        foreach (var item in element.EnumerateArray())
        {
            switch (item.ValueKind)
            {
                case JsonValueKind.String:
                    var part = item.GetString()!;
                    promptTokens += MockText.CountWords(part);
                    text.Append(part).Append('\n');
                    break;
                case JsonValueKind.Number:
                    promptTokens++;
                    text.Append(item.GetRawText()).Append(' ');
                    break;
                case JsonValueKind.Array:
                    foreach (var token in item.EnumerateArray())
                    {
                        if (token.ValueKind != JsonValueKind.Number)
                        {
                            return false;
                        }

                        promptTokens++;
                        text.Append(token.GetRawText()).Append(' ');
                    }

                    text.Append('\n');
                    break;
                default:
                    return false;
            }
        }

        prompt = text.ToString();
        return true;
    }

    private static async Task WriteCompletionAsync(Completion completion)
    {
        var response = completion.Exchange.Context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = MockJson.ContentType;

        using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
        {
            WriteChunk(json, completion, completion.Answer.Text, completion.FinishReason, usage: UsageField.Full);
        }

        await response.BodyWriter.FlushAsync(completion.Exchange.Context.RequestAborted);
    }

    private static async Task StreamAsync(Completion completion, bool includeUsage)
    {
        var exchange = completion.Exchange;
        var usage = includeUsage ? UsageField.Null : UsageField.Omitted;
        using var events = ServerSentEventsWriter.Start(exchange.Context.Response);

        var tokens = completion.Answer.Tokens;
        for (var i = 0; i < tokens.Length; i++)
        {
            exchange.FailIfDue(i);

            if (i > 0)
            {
                await exchange.WaitBetweenTokensAsync();
            }

            WriteChunk(events.BeginEvent(), completion, tokens[i], finishReason: null, usage);
            if (!await events.EndEventAsync())
            {
                return;
            }
        }

        exchange.FailIfDue(tokens.Length);

        WriteChunk(events.BeginEvent(), completion, "", completion.FinishReason, usage);
        if (!await events.EndEventAsync())
        {
            return;
        }

        if (includeUsage)
        {
            var json = events.BeginEvent();
            WriteHeader(json, completion);
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

    private static void WriteChunk(Utf8JsonWriter json, Completion completion, string text, string? finishReason, UsageField usage)
    {
        WriteHeader(json, completion);
        json.WriteStartArray("choices"u8);
        json.WriteStartObject();
        json.WriteString("text"u8, text);
        json.WriteNumber("index"u8, 0);
        json.WriteNull("logprobs"u8);
        json.WriteString("finish_reason"u8, finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        switch (usage)
        {
            case UsageField.Full:
                WriteUsage(json, completion);
                break;
            case UsageField.Null:
                json.WriteNull("usage"u8);
                break;
        }

        json.WriteEndObject();
    }

    private static void WriteHeader(Utf8JsonWriter json, Completion completion)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, completion.Id);
        json.WriteString("object"u8, "text_completion");
        json.WriteNumber("created"u8, completion.Exchange.CreatedUnixSeconds);
        json.WriteString("model"u8, completion.Exchange.Model);
        json.WriteString("system_fingerprint"u8, SystemFingerprint);
    }

    private static void WriteUsage(Utf8JsonWriter json, Completion completion)
    {
        json.WriteStartObject("usage"u8);
        json.WriteNumber("prompt_tokens"u8, completion.PromptTokens);
        json.WriteNumber("completion_tokens"u8, completion.Answer.TokenCount);
        json.WriteNumber("total_tokens"u8, completion.PromptTokens + completion.Answer.TokenCount);
        json.WriteEndObject();
    }

    private enum UsageField
    {
        Omitted,
        Null,
        Full,
    }

    private sealed class Completion(MockExchange exchange, int promptTokens, MockAnswer answer)
    {
        public MockExchange Exchange { get; } = exchange;

        public int PromptTokens { get; } = promptTokens;

        public MockAnswer Answer { get; } = answer;

        public string Id { get; } = string.Create(CultureInfo.InvariantCulture, $"cmpl-mock-{exchange.Sequence}");

        public string FinishReason => Answer.Truncated ? "length" : "stop";
    }
}
