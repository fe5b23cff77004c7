using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using LlmGateway.Parsing;

namespace LlmGateway.Routing;

/// <summary>
/// What the upstream request body is made of. Stages change it here rather than writing bytes themselves, so
/// their changes compose: a guard's redaction, routing's upstream model name and metering's usage request all
/// reach every attempt, whichever stage ran last.
/// </summary>
public sealed class UpstreamBodyFeature(LlmRequestFeature request)
{
    /// <summary>The JSON object to send: the client's body, or a rewrite of it (e.g. redacted).</summary>
    public ReadOnlyMemory<byte> Content { get; private set; } = request.Body;

    /// <summary>Whether <see cref="Content"/> is still the client's body, so its parsed form can be reused.</summary>
    public bool IsClientBody { get; private set; } = true;

    /// <summary>The model name the upstream knows; null sends the name in <see cref="Content"/>.</summary>
    public string? Model { get; set; }

    /// <summary>Ask the upstream for a final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; set; }

    internal LlmRequestFeature Request { get; } = request;

    public void ReplaceContent(ReadOnlyMemory<byte> content)
    {
        Content = content;
        IsClientBody = false;
    }

    public UpstreamBodyFeature Clone() => new(Request)
    {
        Content = Content,
        IsClientBody = IsClientBody,
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
            return body.Content;
        }

        var model = body.Model ?? body.Request.Model;
        if (body.IsClientBody)
        {
            return Rewrite(body.Request.Root, model, body.IncludeUsage);
        }

        using var document = JsonDocument.Parse(body.Content);
        return Rewrite(document.RootElement, model, body.IncludeUsage);
    }

    /// <summary>Hands <paramref name="body"/> to the forwarder for this attempt (provider translation sends another API's body).</summary>
    internal static void Set(HttpContext context, ReadOnlyMemory<byte> body)
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
