using System.Runtime.CompilerServices;
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
        request.Body = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        request.ContentLength = segment.Count;
        request.Headers.Remove("Transfer-Encoding");
    }

    /// <summary>
    /// Copies a JSON object, replacing the value of <c>model</c>. Every other byte is kept exactly as the client
    /// sent it: the copy splices the new value into the original text instead of re-serialising the body, which
    /// would re-escape every non-ASCII character and cost time in proportion to the whole conversation.
    /// </summary>
    public static ReadOnlyMemory<byte> WithModel(JsonElement root, string model)
    {
        var original = JsonMarshal.GetRawUtf8Value(root);
        var value = JsonEncodedText.Encode(model).EncodedUtf8Bytes;

        var size = original.Length;
        foreach (var property in root.EnumerateObject())
        {
            if (property.NameEquals("model"u8))
            {
                size += value.Length + 2 - JsonMarshal.GetRawUtf8Value(property.Value).Length;
            }
        }

        var copy = new byte[size];
        var destination = copy.AsSpan();
        var copied = 0;
        foreach (var property in root.EnumerateObject())
        {
            if (!property.NameEquals("model"u8))
            {
                continue;
            }

            var oldValue = JsonMarshal.GetRawUtf8Value(property.Value);
            var start = (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(original), ref MemoryMarshal.GetReference(oldValue));
            original[copied..start].CopyTo(destination);
            destination = destination[(start - copied)..];
            destination[0] = (byte)'"';
            value.CopyTo(destination[1..]);
            destination[value.Length + 1] = (byte)'"';
            destination = destination[(value.Length + 2)..];
            copied = start + oldValue.Length;
        }

        original[copied..].CopyTo(destination);
        return copy;
    }
}
