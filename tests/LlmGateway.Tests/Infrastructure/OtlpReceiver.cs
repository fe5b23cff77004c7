using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>
/// A minimal OTLP/HTTP collector on real Kestrel (loopback): accepts protobuf <c>POST /v1/traces</c> and
/// <c>/v1/metrics</c>, decodes the spans of trace exports, and remembers which paths were posted to. It stands in for
/// an OpenTelemetry Collector, which cannot be installed here; the gateway's real OTLP exporter sends to it.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public ConcurrentQueue<ExportedSpan> Spans { get; } = new();

    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>How many spans each trace export carried, in the order they arrived.</summary>
    public ConcurrentQueue<int> TraceExportSizes { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        OtlpReceiver? receiver = null;
        app.MapPost("/v1/{signal}", async (HttpContext context, string signal) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            receiver!.Paths.Enqueue(context.Request.Path);
            if (signal == "traces")
            {
                var spans = OtlpTraceDecoder.Decode(body.ToArray()).ToList();
                foreach (var span in spans)
                {
                    receiver.Spans.Enqueue(span);
                }

                receiver.TraceExportSizes.Enqueue(spans.Count);
            }

            // An empty Export*ServiceResponse: full success.
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver = new OtlpReceiver(app, new Uri(address.TrimEnd('/') + "/"));
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>One span as it arrived over OTLP: ids in hex, the instrumentation scope's name, kind and attributes.</summary>
public sealed record ExportedSpan(string TraceId, string SpanId, string ParentSpanId, string Scope, string Name, SpanKind Kind, IReadOnlyDictionary<string, object> Attributes);

/// <summary>The OTLP span kinds (opentelemetry/proto/trace/v1/trace.proto).</summary>
public enum SpanKind
{
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// <summary>
/// Reads an <c>ExportTraceServiceRequest</c> (opentelemetry/proto/collector/trace/v1) with just enough of the protobuf
/// wire format for spans: resource_spans(1) → scope_spans(2) → scope(1).name(1), spans(2) → trace_id(1), span_id(2),
/// parent_span_id(4), name(5), kind(6), attributes(9) as KeyValue{key(1), AnyValue value(2)}.
/// </summary>
public static class OtlpTraceDecoder
{
    public static List<ExportedSpan> Decode(byte[] request)
    {
        var spans = new List<ExportedSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1)
            {
                continue;
            }

            foreach (var (resourceField, scopeSpans) in Fields(resourceSpans))
            {
                if (resourceField == 2)
                {
                    ReadScopeSpans(scopeSpans, spans);
                }
            }
        }

        return spans;
    }

    private static void ReadScopeSpans(ReadOnlyMemory<byte> scopeSpans, List<ExportedSpan> spans)
    {
        var scope = "";
        var spanMessages = new List<ReadOnlyMemory<byte>>();
        foreach (var (field, value) in Fields(scopeSpans))
        {
            if (field == 1)
            {
                foreach (var (scopeField, scopeValue) in Fields(value))
                {
                    if (scopeField == 1)
                    {
                        scope = System.Text.Encoding.UTF8.GetString(scopeValue.Span);
                    }
                }
            }
            else if (field == 2)
            {
                spanMessages.Add(value);
            }
        }

        foreach (var span in spanMessages)
        {
            spans.Add(ReadSpan(span, scope));
        }
    }

    private static ExportedSpan ReadSpan(ReadOnlyMemory<byte> span, string scope)
    {
        string traceId = "", spanId = "", parentSpanId = "", name = "";
        var kind = SpanKind.Unspecified;
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
        var reader = new ProtoReader(span);
        while (reader.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, 2): traceId = Convert.ToHexStringLower(reader.Bytes().Span); break;
                case (2, 2): spanId = Convert.ToHexStringLower(reader.Bytes().Span); break;
                case (4, 2): parentSpanId = Convert.ToHexStringLower(reader.Bytes().Span); break;
                case (5, 2): name = System.Text.Encoding.UTF8.GetString(reader.Bytes().Span); break;
                case (6, 0): kind = (SpanKind)reader.Varint(); break;
                case (9, 2):
                    var (key, value) = ReadKeyValue(reader.Bytes());
                    attributes[key] = value;
                    break;
                default: reader.Skip(wireType); break;
            }
        }

        return new ExportedSpan(traceId, spanId, parentSpanId, scope, name, kind, attributes);
    }

    private static (string Key, object Value) ReadKeyValue(ReadOnlyMemory<byte> keyValue)
    {
        var key = "";
        object value = "";
        var reader = new ProtoReader(keyValue);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 1 && wireType == 2)
            {
                key = System.Text.Encoding.UTF8.GetString(reader.Bytes().Span);
            }
            else if (field == 2 && wireType == 2)
            {
                value = ReadAnyValue(reader.Bytes());
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return (key, value);
    }

    private static object ReadAnyValue(ReadOnlyMemory<byte> anyValue)
    {
        var reader = new ProtoReader(anyValue);
        object value = "";
        while (reader.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, 2): value = System.Text.Encoding.UTF8.GetString(reader.Bytes().Span); break;
                case (2, 0): value = reader.Varint() != 0; break;
                case (3, 0): value = (long)reader.Varint(); break;
                case (4, 1): value = BitConverter.Int64BitsToDouble((long)reader.Fixed64()); break;
                case (5, 2): value = ReadArrayValue(reader.Bytes()); break;
                default: reader.Skip(wireType); value = "(unsupported value)"; break;
            }
        }

        return value;
    }

    /// <summary>An <c>ArrayValue</c>: its repeated <c>AnyValue values = 1</c>, in order.</summary>
    private static object[] ReadArrayValue(ReadOnlyMemory<byte> arrayValue)
    {
        var reader = new ProtoReader(arrayValue);
        var values = new List<object>();
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 1 && wireType == 2)
            {
                values.Add(ReadAnyValue(reader.Bytes()));
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return [.. values];
    }

    private static List<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var reader = new ProtoReader(message);
        var fields = new List<(int, ReadOnlyMemory<byte>)>();
        while (reader.Next(out var field, out var wireType))
        {
            if (wireType == 2)
            {
                fields.Add((field, reader.Bytes()));
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return fields;
    }

    private sealed class ProtoReader(ReadOnlyMemory<byte> data)
    {
        private int _position;

        public bool Next(out int field, out int wireType)
        {
            if (_position >= data.Length)
            {
                field = wireType = 0;
                return false;
            }

            var tag = Varint();
            field = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data.Span[_position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }
        }

        public ulong Fixed64()
        {
            var value = BitConverter.ToUInt64(data.Span.Slice(_position, 8));
            _position += 8;
            return value;
        }

        public ReadOnlyMemory<byte> Bytes()
        {
            var length = (int)Varint();
            var bytes = data.Slice(_position, length);
            _position += length;
            return bytes;
        }

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case 0: Varint(); break;
                case 1: _position += 8; break;
                case 2: Bytes(); break;
                case 5: _position += 4; break;
                default: throw new InvalidDataException($"Unsupported protobuf wire type {wireType}.");
            }
        }
    }
}
