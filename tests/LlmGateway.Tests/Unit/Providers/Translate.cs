using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Errors;
using LlmGateway.Providers.Anthropic;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>Runs the translators on JSON text and returns parsed results, so tests read as input and expected output.</summary>
internal static class Translate
{
    public const long Created = 1_700_000_000;

    public static JsonElement ChatToMessages(string openAiRequest, out ChatTranslation translation, string model = "claude-sonnet-4-5")
    {
        var error = ChatToMessagesError(openAiRequest, out translation, out var output, model);
        error.ShouldBeNull(error?.Message);
        return Parse(output);
    }

    public static GatewayError? ChatToMessagesError(string openAiRequest, out ChatTranslation translation, out string output, string model = "claude-sonnet-4-5")
    {
        using var request = JsonDocument.Parse(openAiRequest);
        var buffer = new ArrayBufferWriter<byte>();
        var error = ChatToMessagesRequest.Translate(request.RootElement, model, ChatToMessagesRequest.DefaultMaxTokens, buffer, out translation);
        output = Encoding.UTF8.GetString(buffer.WrittenSpan);
        return error;
    }

    public static JsonElement MessagesToChat(string anthropicRequest, out bool stream, bool useMaxCompletionTokens = true)
    {
        var error = MessagesToChatError(anthropicRequest, out stream, out var output, useMaxCompletionTokens);
        error.ShouldBeNull(error?.Message);
        return Parse(output);
    }

    public static GatewayError? MessagesToChatError(string anthropicRequest, out bool stream, out string output, bool useMaxCompletionTokens = true)
    {
        using var request = JsonDocument.Parse(anthropicRequest);
        var buffer = new ArrayBufferWriter<byte>();
        var error = MessagesToChatRequest.Translate(request.RootElement, "gpt-4o", useMaxCompletionTokens, buffer, out stream);
        output = Encoding.UTF8.GetString(buffer.WrittenSpan);
        return error;
    }

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>The JSON payloads of an SSE text, in order; <c>[DONE]</c> is returned as the string "[DONE]".</summary>
    public static List<(string? Event, string Data)> Events(string sse)
    {
        var events = new List<(string?, string)>();
        foreach (var block in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            string? data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line["data: ".Length..];
                }
            }

            data.ShouldNotBeNull($"every event has data: '{block}'");
            events.Add((name, data));
        }

        return events;
    }

    /// <summary>Feeds a stream translator the input cut into pieces at the given offsets and returns everything it wrote.</summary>
    public static string Feed(byte[] input, IReadOnlyList<int> cuts, Action<ReadOnlySpan<byte>, IBufferWriter<byte>> translate, Action<IBufferWriter<byte>> complete)
    {
        var output = new ArrayBufferWriter<byte>();
        var start = 0;
        foreach (var cut in cuts)
        {
            translate(input.AsSpan(start, cut - start), output);
            start = cut;
        }

        translate(input.AsSpan(start), output);
        complete(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
