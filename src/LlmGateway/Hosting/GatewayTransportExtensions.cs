namespace LlmGateway.Hosting;

public static class GatewayTransportExtensions
{
    /// <summary>The runtime's switch for running socket completions on its event threads (read once, at start-up).</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// With <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> (as <c>deploy/Dockerfile</c> and the benchmarks start
    /// the gateway), Kestrel also runs each request's code on the thread that completed its socket operation, instead
    /// of handing it to the thread pool at each step. A request then crosses threads about 0.5 times instead of 3 times
    /// (full pipeline, 16 connections): 7% less CPU per request and 19% less latency at one connection
    /// (docs/benchmarks.md). Without the variable nothing changes.
    /// </summary>
    /// <remarks>
    /// The runtime then keeps one event thread per processor, and each runs the code of its sockets' requests, so a
    /// request that blocks a thread, or computes for long, delays the other requests on that thread. The gateway's
    /// stages do neither: they wait asynchronously and their work is bounded by the request body limit.
    /// </remarks>
    public static WebApplicationBuilder UseGatewayTransport(this WebApplicationBuilder builder)
    {
        var inline = string.Equals(Environment.GetEnvironmentVariable(InlineCompletionsVariable), "1", StringComparison.Ordinal);
        builder.WebHost.UseSockets(options => options.UnsafePreferInlineScheduling = inline);
        return builder;
    }
}
