using BenchmarkDotNet.Attributes;
using LlmGateway.Metering;
using LlmGateway.Responses;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LlmGateway.Benchmarks;

/// <summary>
/// What metering adds to every event of a streamed answer, reported per event (BenchmarkDotNet divides by the
/// stream's event count): <c>Observer</c> is the usage observer alone on events already split (usage search, delta
/// counting and, when traced, id and finish reason); <c>Stream</c> is the whole per-write path, with the response
/// body wrapper splitting the upstream's writes into events, showing each to the observer and forwarding it to the
/// client. Each stream is a 100-token answer; its per-stream objects (the observer, the wrapper, the response id when
/// traced) are spread over its events, so a few bytes per event are expected and anything more is a per-event cost.
/// </summary>
[MemoryDiagnoser]
public class SseUsageBenchmarks
{
    private readonly byte[][] _openAi = StreamedAnswers.OpenAiChat();
    private readonly byte[][] _anthropic = StreamedAnswers.AnthropicMessages();
    private readonly PriceCatalog _prices = new([], new Dictionary<string, ModelPrice>());
    private readonly DefaultHttpContext _context = new();

    /// <summary>Whether the request is traced, which makes the observer also read the response id and finish reasons.</summary>
    [Params(false, true)]
    public bool Traced { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        _context.Response.ContentType = "text/event-stream";
        VerifyUsage(_openAi, new TokenUsage(412, 100, 256, 0));
        VerifyUsage(_anthropic, new TokenUsage(412, 100, 256, 0));
    }

    [Benchmark(OperationsPerInvoke = StreamedAnswers.Tokens + 4)]
    public TokenUsage OpenAiObserver() => ObserveSplitEvents(_openAi);

    [Benchmark(OperationsPerInvoke = StreamedAnswers.Tokens + 4)]
    public TokenUsage OpenAiStream() => ObserveStream(_openAi);

    [Benchmark(OperationsPerInvoke = StreamedAnswers.Tokens + 6)]
    public TokenUsage AnthropicObserver() => ObserveSplitEvents(_anthropic);

    [Benchmark(OperationsPerInvoke = StreamedAnswers.Tokens + 6)]
    public TokenUsage AnthropicStream() => ObserveStream(_anthropic);

    private TokenUsage ObserveSplitEvents(byte[][] events)
    {
        var observer = NewObserver();
        foreach (var framed in events)
        {
            observer.OnEvent(new ServerSentEvent(StreamedAnswers.EventTypeOf(framed).Span, StreamedAnswers.DataOf(framed).Span));
        }

        return observer.Usage;
    }

    private TokenUsage ObserveStream(byte[][] events)
    {
        var observer = NewObserver();
        ResponseObservation.Observe(_context, observer);
        var body = _context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().Stream;
        foreach (var framed in events)
        {
            var write = body.WriteAsync(framed);
            if (!write.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("a write to Stream.Null completes at once");
            }
        }

        var complete = ResponseObservation.CompleteAsync(_context, deliver: true);
        return complete.IsCompletedSuccessfully ? observer.Usage : throw new InvalidOperationException("nothing is held back at the end of a stream");
    }

    private UsageObserver NewObserver() => new(_context, _prices, "gpt-4o-mini", hideUsageChunk: false, readResponseMetadata: Traced);

    private void VerifyUsage(byte[][] events, TokenUsage expected)
    {
        if (ObserveSplitEvents(events) != expected || ObserveStream(events) != expected)
        {
            throw new InvalidOperationException($"the benchmark stream must carry {expected}");
        }
    }
}
