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
        context.Features.Set(new UpstreamBodyFeature(body));
        if (!MemoryMarshal.TryGetArray(body, out var segment))
        {
            segment = new ArraySegment<byte>(body.ToArray());
        }

        var request = context.Request;
        request.Body = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        request.ContentLength = segment.Count;
        request.Headers.Remove("Transfer-Encoding");
    }

    /// <summary>The body the forwarder will send, as the last stage set it.</summary>
    public static ReadOnlyMemory<byte> Current(HttpContext context) =>
        context.Features.Get<UpstreamBodyFeature>()?.Body ?? ReadOnlyMemory<byte>.Empty;

    /// <summary>
    /// Copies the current upstream body, replacing <c>model</c>. An earlier stage may have rewritten the body (a
    /// guardrail redacting PII), so the copy starts from what it set rather than from the client's original.
    /// </summary>
    public static ReadOnlyMemory<byte> WithModel(HttpContext context, JsonElement original, ReadOnlyMemory<byte> originalBody, string model)
    {
        var current = Current(context);
        if (current.IsEmpty || current.Equals(originalBody))
        {
            return WithModel(original, model);
        }

        using var document = JsonDocument.Parse(current);
        return WithModel(document.RootElement, model);
    }

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

/// <summary>Remembers the upstream body last set, so that later stages rewrite it rather than the client's original.</summary>
internal sealed record UpstreamBodyFeature(ReadOnlyMemory<byte> Body);
