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
    public static ReadOnlyMemory<byte> WithModel(JsonElement root, string model)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("model"))
                {
                    writer.WriteString("model", model);
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }
}
