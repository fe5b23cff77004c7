using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using LlmGateway.Parsing;
using Yarp.ReverseProxy.Transforms;

namespace LlmGateway.Routing;

/// <summary>
/// What the upstream request body is made of. Stages change it here rather than writing bytes themselves, so
/// their changes compose: a guard's redaction, routing's upstream model name and metering's usage request all
/// reach every attempt, whichever stage ran last.
/// </summary>
public sealed class UpstreamBodyFeature(LlmRequestFeature request)
{
    /// <summary>The model name the upstream knows; null sends the name the client asked for.</summary>
    public string? Model { get; set; }

    /// <summary>Ask the upstream for a final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; set; }

    /// <summary>The parsed request the body is made from (a guardrail that redacts replaces both features).</summary>
    internal LlmRequestFeature Request { get; } = request;

    public UpstreamBodyFeature Clone() => new(Request)
    {
        Model = Model,
        IncludeUsage = IncludeUsage,
    };
}

/// <summary>
/// The body the forwarder sends upstream, composed from <see cref="UpstreamBodyFeature"/> and replayed from memory on
/// every attempt: the client's stream is never read twice.
/// </summary>
internal static class UpstreamBody
{
    private static readonly byte[] StreamOptionsProperty = "\"stream_options\":"u8.ToArray();

    /// <summary>Composes the upstream body from the request's <see cref="UpstreamBodyFeature"/> and hands it to the forwarder.</summary>
    public static void Apply(HttpContext context)
    {
        var body = context.Features.Get<UpstreamBodyFeature>()
            ?? throw new InvalidOperationException("The request has not been parsed: UseRequestParsing() must run first.");
        Set(context, Compose(body));
    }

    internal static ReadOnlyMemory<byte> Compose(UpstreamBodyFeature body)
    {
        var renamesModel = body.Model is not null && !string.Equals(body.Model, body.Request.Model, StringComparison.Ordinal);
        if (!renamesModel && !body.IncludeUsage)
        {
            return body.Request.Body;
        }

        return Rewrite(body.Request.Root, body.Model ?? body.Request.Model, body.IncludeUsage);
    }

    /// <summary>Hands <paramref name="body"/> to the forwarder for this attempt (provider translation sends another API's body).</summary>
    internal static void Set(HttpContext context, ReadOnlyMemory<byte> body)
    {
        if (!MemoryMarshal.TryGetArray(body, out var segment))
        {
            segment = new ArraySegment<byte>(body.ToArray());
        }

        var request = context.Request;
        request.Body = new UpstreamBodyStream(segment);
        request.ContentLength = segment.Count;
        request.Headers.Remove("Transfer-Encoding");
    }

    /// <summary>
    /// A request transform: sends a body composed here (<see cref="Set"/>) as one buffer, so that it leaves with the
    /// request's headers in one write. The forwarder's own content would first send the headers alone and then copy
    /// the body: two writes and two packets per request, and an upstream woken twice. Other bodies are left alone.
    /// </summary>
    public static ValueTask SendInOneWrite(RequestTransformContext transform)
    {
        if (transform.HttpContext.Request.Body is UpstreamBodyStream body && transform.ProxyRequest.Content is { } streamed)
        {
            var whole = new ByteArrayContent(body.Segment.Array!, body.Segment.Offset, body.Segment.Count);
            foreach (var (name, values) in streamed.Headers.NonValidated)
            {
                if (!string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    whole.Headers.TryAddWithoutValidation(name, values);
                }
            }

            transform.ProxyRequest.Content = whole;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The composed body as the request's stream: readable like any body, and recognised by <see cref="SendInOneWrite"/>.</summary>
    private sealed class UpstreamBodyStream(ArraySegment<byte> segment)
        : MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true)
    {
        public ArraySegment<byte> Segment { get; } = segment;
    }

    /// <summary>
    /// Copies a JSON object, replacing the value of <c>model</c> and, when <paramref name="includeUsage"/>, asking for
    /// a final usage chunk (<c>stream_options.include_usage: true</c>) while keeping the client's other stream options.
    /// </summary>
    /// <remarks>
    /// Every other byte is kept exactly as the client sent it: the copy splices new values into the original text
    /// instead of re-serialising the body, which would re-escape every non-ASCII character and cost time in
    /// proportion to the whole conversation.
    /// </remarks>
    public static ReadOnlyMemory<byte> Rewrite(JsonElement root, string model, bool includeUsage)
    {
        var original = JsonMarshal.GetRawUtf8Value(root);
        var modelValue = JsonEncodedText.Encode(model).EncodedUtf8Bytes;
        var output = new ArrayBufferWriter<byte>(original.Length + modelValue.Length + 64);
        var copied = 0;
        var hasProperties = false;
        var wroteStreamOptions = false;
        foreach (var property in root.EnumerateObject())
        {
            hasProperties = true;
            if (property.NameEquals("model"u8))
            {
                var value = JsonMarshal.GetRawUtf8Value(property.Value);
                copied = CopyUpTo(original, copied, value, output);
                output.Write("\""u8);
                output.Write(modelValue);
                output.Write("\""u8);
            }
            else if (includeUsage && property.NameEquals("stream_options"u8))
            {
                var value = JsonMarshal.GetRawUtf8Value(property.Value);
                copied = CopyUpTo(original, copied, value, output);
                WriteStreamOptions(output, property.Value);
                wroteStreamOptions = true;
            }
        }

        if (includeUsage && !wroteStreamOptions)
        {
            // Insert before the object's closing brace.
            var closingBrace = original.Length - 1;
            output.Write(original[copied..closingBrace]);
            copied = closingBrace;
            if (hasProperties)
            {
                output.Write(","u8);
            }

            output.Write(StreamOptionsProperty);
            WriteStreamOptions(output, default);
        }

        output.Write(original[copied..]);
        return output.WrittenMemory;
    }

    /// <summary>Copies the original text from <paramref name="copied"/> up to where <paramref name="value"/> starts; returns where it ends.</summary>
    private static int CopyUpTo(ReadOnlySpan<byte> original, int copied, ReadOnlySpan<byte> value, ArrayBufferWriter<byte> output)
    {
        var start = (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(original), ref MemoryMarshal.GetReference(value));
        output.Write(original[copied..start]);
        return start + value.Length;
    }

    private static void WriteStreamOptions(ArrayBufferWriter<byte> output, JsonElement clientOptions)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        if (clientOptions.ValueKind == JsonValueKind.Object)
        {
            foreach (var option in clientOptions.EnumerateObject())
            {
                if (!option.NameEquals("include_usage"u8))
                {
                    option.WriteTo(writer);
                }
            }
        }

        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
    }
}
