using System.Buffers;
using System.IO.Pipelines;
using LlmGateway.Configuration;
using LlmGateway.Errors;
using LlmGateway.Routing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace LlmGateway.Parsing;

/// <summary>
/// Reads the request body once, under the configured size cap, and parses it into an <see cref="LlmRequestFeature"/>.
/// The body the forwarder later sends comes from that one buffer; the client's stream is never read again.
/// </summary>
internal sealed class RequestParsingMiddleware(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private readonly long _maxBodyBytes = options.Value.MaxRequestBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        var operation = ApiRoutes.OperationOf(context.GetReverseProxyFeature().Route.Config.RouteId);
        var request = context.Request;
        if (request.ContentLength > _maxBodyBytes)
        {
            await GatewayError.BodyTooLarge(_maxBodyBytes).WriteAsync(context.Response);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = _maxBodyBytes;
        }

        var (buffer, length) = await ReadBodyAsync(request.BodyReader, _maxBodyBytes, context.RequestAborted);
        if (buffer is null)
        {
            await GatewayError.BodyTooLarge(_maxBodyBytes).WriteAsync(context.Response);
            return;
        }

        var feature = LlmRequestParser.Parse(operation, buffer, length, out var error);
        if (feature is null)
        {
            await error!.WriteAsync(context.Response);
            return;
        }

        context.Response.RegisterForDispose(feature);
        context.Features.Set(feature);
        context.Features.Set(new UpstreamBodyFeature(feature));
        UpstreamBody.Apply(context);
        await next(context);
    }

    /// <summary>Reads the whole body into a pooled buffer; returns a null buffer when it exceeds the cap.</summary>
    private static async ValueTask<(byte[]? Buffer, int Length)> ReadBodyAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var sequence = result.Buffer;
            if (sequence.Length > maxBytes)
            {
                reader.AdvanceTo(sequence.End);
                return (null, 0);
            }

            if (result.IsCompleted)
            {
                var length = (int)sequence.Length;
                var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                sequence.CopyTo(buffer);
                reader.AdvanceTo(sequence.End);
                return (buffer, length);
            }

            reader.AdvanceTo(sequence.Start, sequence.End);
        }
    }
}
