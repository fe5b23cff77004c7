using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LlmGateway.Routing;

/// <summary>
/// The body the forwarder sends upstream. Stages set it from the parsed request (replaying the same buffer on
/// every attempt) and rewrite it when the upstream needs different fields, such as another model name.
/// </summary>
internal static class UpstreamBody
{
    public static void Set(HttpContext context, ReadOnlyMemory<byte> body)
    {
        if (!MemoryMarshal.TryGetArray(body, out var segment))
        {
            segment = new ArraySegment<byte>(body.ToArray());
        }

        var request = context.Request;
        request.Body = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true);
        request.ContentLength = segment.Count;
        request.Headers.Remove("Transfer-Encoding");
    }

    /// <summary>
    /// The body as the forwarder would send it now, after every earlier stage's rewrites (a guardrail's redaction, a
    /// forced usage chunk, another model name); empty when no stage has set it.
    /// </summary>
    public static ReadOnlyMemory<byte> Current(HttpContext context) =>
        context.Request.Body is MemoryStream stream && stream.TryGetBuffer(out var segment) ? segment.AsMemory() : default;

    /// <summary>Copies a JSON object, replacing the value of <c>model</c>.</summary>
    public static ReadOnlyMemory<byte> WithModel(JsonElement root, string model) => Rewrite(root, model, includeUsage: false);

    /// <summary>
    /// Copies a JSON object, replacing the value of <c>model</c> and, when <paramref name="includeUsage"/>, asking for
    /// a final usage chunk (<c>stream_options.include_usage: true</c>) while keeping the client's other stream options.
    /// </summary>
    public static ReadOnlyMemory<byte> Rewrite(JsonElement root, string model, bool includeUsage)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var wroteStreamOptions = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("model"))
                {
                    writer.WriteString("model", model);
                }
                else if (includeUsage && property.NameEquals("stream_options"))
                {
                    WriteStreamOptions(writer, property.Value);
                    wroteStreamOptions = true;
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            if (includeUsage && !wroteStreamOptions)
            {
                WriteStreamOptions(writer, default);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    private static void WriteStreamOptions(Utf8JsonWriter writer, JsonElement clientOptions)
    {
        writer.WriteStartObject("stream_options");
        if (clientOptions.ValueKind == JsonValueKind.Object)
        {
            foreach (var option in clientOptions.EnumerateObject())
            {
                if (!option.NameEquals("include_usage"))
                {
                    option.WriteTo(writer);
                }
            }
        }

        writer.WriteBoolean("include_usage", true);
        writer.WriteEndObject();
    }
}
