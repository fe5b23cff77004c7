using System.Buffers;
using BenchmarkDotNet.Attributes;
using LlmGateway.Parsing;

namespace LlmGateway.Benchmarks;

/// <summary>
/// The parse-once step every request pays: copy the body into a pooled buffer (as the middleware does), parse it
/// into <see cref="LlmRequestFeature"/>, and release both at the end of the request.
/// </summary>
[MemoryDiagnoser]
public class RequestParsingBenchmarks
{
    private byte[] _body = [];

    [Params("small", "large")]
    public string Size { get; set; } = "small";

    [GlobalSetup]
    public void Setup() => _body = RequestBodies.Get(Size);

    [Benchmark]
    public bool ParseChatCompletion()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_body.Length);
        _body.CopyTo(buffer, 0);
        using var feature = LlmRequestParser.Parse(LlmOperation.ChatCompletions, buffer, _body.Length, out _)
            ?? throw new InvalidOperationException("the benchmark body must be valid");
        return feature.Stream;
    }
}
