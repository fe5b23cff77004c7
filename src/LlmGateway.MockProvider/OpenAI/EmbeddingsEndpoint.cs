using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary>
/// <c>POST /v1/embeddings</c>: <see cref="MockEmbedding"/> vectors as JSON floats or, as the OpenAI SDKs ask by
/// default, base64 of little-endian float32.
/// </summary>
internal sealed class EmbeddingsEndpoint
{
    private readonly OpenAIRequestRunner _runner;
    private readonly IOptions<MockProviderOptions> _options;
    private readonly OpenAIResponder _respond;

    public EmbeddingsEndpoint(OpenAIRequestRunner runner, IOptions<MockProviderOptions> options)
    {
        _runner = runner;
        _options = options;
        _respond = RespondAsync;
    }

    public Task HandleAsync(HttpContext context) => _runner.RunAsync(context, _respond);

    private async Task RespondAsync(MockExchange exchange, JsonElement body)
    {
        var context = exchange.Context;
        if (!body.TryGetProperty("input"u8, out var input) || input.ValueKind == JsonValueKind.Null)
        {
            await OpenAIErrors.WriteMissingParameterAsync(context, "input");
            return;
        }

        var inputs = new List<string>();
        if (!TryReadInputs(input, inputs, out var promptTokens))
        {
            await OpenAIErrors.WriteInvalidRequestAsync(
                context, "Invalid 'input': expected a non-empty string, an array of strings, an array of tokens or an array of token arrays.", "input");
            return;
        }

        var dimensions = _options.Value.EmbeddingDimensions;
        if (body.TryGetProperty("dimensions"u8, out var requested) && requested.ValueKind != JsonValueKind.Null)
        {
            if (requested.ValueKind != JsonValueKind.Number || !requested.TryGetInt32(out dimensions)
                || dimensions < 1 || dimensions > MockProviderOptions.MaxEmbeddingDimensions)
            {
                await OpenAIErrors.WriteInvalidRequestAsync(
                    context, $"Invalid 'dimensions': expected an integer between 1 and {MockProviderOptions.MaxEmbeddingDimensions}.", "dimensions");
                return;
            }
        }

        bool base64;
        switch (OpenAIRequestReader.GetString(body, "encoding_format"u8))
        {
            case null or "float":
                base64 = false;
                break;
            case "base64":
                base64 = true;
                break;
            default:
                await OpenAIErrors.WriteInvalidRequestAsync(context, "Invalid 'encoding_format': expected 'float' or 'base64'.", "encoding_format");
                return;
        }

        await exchange.WaitForFirstTokenAsync();

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = MockJson.ContentType;

        var vector = ArrayPool<float>.Shared.Rent(dimensions);
        var bytes = base64 ? ArrayPool<byte>.Shared.Rent(dimensions * sizeof(float)) : null;
        try
        {
            using var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions);
            json.WriteStartObject();
            json.WriteString("object"u8, "list");
            json.WriteStartArray("data"u8);
            for (var i = 0; i < inputs.Count; i++)
            {
                var values = vector.AsSpan(0, dimensions);
                MockEmbedding.Compute(inputs[i], values);

                json.WriteStartObject();
                json.WriteString("object"u8, "embedding");
                json.WriteNumber("index"u8, i);
                if (bytes is null)
                {
                    json.WriteStartArray("embedding"u8);
                    foreach (var value in values)
                    {
                        json.WriteNumberValue(value);
                    }

                    json.WriteEndArray();
                }
                else
                {
                    json.WriteBase64String("embedding"u8, ToLittleEndianBytes(values, bytes));
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("model"u8, exchange.Model);
            json.WriteStartObject("usage"u8);
            json.WriteNumber("prompt_tokens"u8, promptTokens);
            json.WriteNumber("total_tokens"u8, promptTokens);
            json.WriteEndObject();
            json.WriteEndObject();
            json.Flush();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(vector);
            if (bytes is not null)
            {
                ArrayPool<byte>.Shared.Return(bytes);
            }
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static ReadOnlySpan<byte> ToLittleEndianBytes(ReadOnlySpan<float> values, byte[] buffer)
    {
        var bytes = buffer.AsSpan(0, values.Length * sizeof(float));
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(bytes);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes[(i * sizeof(float))..], values[i]);
            }
        }

        return bytes;
    }

    /// <summary>
    /// Each input becomes one text: a string as is, an array of token ids as the text of the numbers. Prompt
    /// tokens are the words of each string plus the number of token ids.
    /// </summary>
    private static bool TryReadInputs(JsonElement input, List<string> inputs, out int promptTokens)
    {
        promptTokens = 0;
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return TryAddText(input, inputs, ref promptTokens);
            case JsonValueKind.Array when input.GetArrayLength() > 0:
                var first = input[0];
                if (first.ValueKind == JsonValueKind.Number)
                {
                    return TryAddTokens(input, inputs, ref promptTokens);
                }

                foreach (var item in input.EnumerateArray())
                {
                    var added = item.ValueKind switch
                    {
                        JsonValueKind.String => TryAddText(item, inputs, ref promptTokens),
                        JsonValueKind.Array => TryAddTokens(item, inputs, ref promptTokens),
                        _ => false,
                    };
                    if (!added)
                    {
                        return false;
                    }
                }

                return true;
            default:
                return false;
        }
    }

    private static bool TryAddText(JsonElement item, List<string> inputs, ref int promptTokens)
    {
        var text = item.GetString()!;
        if (text.Length == 0)
        {
            return false;
        }

        inputs.Add(text);
        promptTokens += MockText.CountWords(text);
        return true;
    }

    private static bool TryAddTokens(JsonElement tokens, List<string> inputs, ref int promptTokens)
    {
        var text = new StringBuilder();
        foreach (var token in tokens.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number)
            {
                return false;
            }

            text.Append(token.GetRawText()).Append(' ');
            promptTokens++;
        }

        if (text.Length == 0)
        {
            return false;
        }

        inputs.Add(text.ToString());
        return true;
    }
}
