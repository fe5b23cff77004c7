using System.Buffers;
using System.Text.Json;

namespace LlmGateway.Parsing;

/// <summary>
/// A JSON writer and its buffer, kept per thread, for hot paths that write a JSON document on every request or chunk.
/// Each user names its own slot with <typeparamref name="TSlot"/>, so that users with different writer options never
/// share a writer. A buffer that a large document grew past the user's limit is dropped after use, not kept.
/// </summary>
internal static class PerThreadJsonWriter<TSlot>
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The thread's buffer, emptied, and its writer, reset onto it.</summary>
    public static Utf8JsonWriter Rent(JsonWriterOptions options, out ArrayBufferWriter<byte> buffer)
    {
        buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, options);
        writer.Reset(buffer);
        return writer;
    }

    /// <summary>Ends a use: the written bytes must have been copied or consumed by now.</summary>
    public static void Return(ArrayBufferWriter<byte> buffer, int maxRetainedBytes)
    {
        if (buffer.Capacity > maxRetainedBytes)
        {
            t_buffer = null;
            t_writer = null;
        }
    }
}
