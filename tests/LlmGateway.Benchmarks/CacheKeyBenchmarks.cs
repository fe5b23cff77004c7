using System.Buffers;
using BenchmarkDotNet.Attributes;
using LlmGateway.Caching;
using LlmGateway.Parsing;

namespace LlmGateway.Benchmarks;

/// <summary>
/// What the cache stage computes for every request on a cached route: the exact key (canonical JSON of the body,
/// SHA-256) and, for a semantic route, the final user turn and the hash of its context.
/// </summary>
[MemoryDiagnoser]
public class CacheKeyBenchmarks
{
    private LlmRequestFeature _request = null!;

    [Params("small", "large")]
    public string Size { get; set; } = "small";

    [GlobalSetup]
    public void Setup()
    {
        var body = RequestBodies.Get(Size);
        var buffer = ArrayPool<byte>.Shared.Rent(body.Length);
        body.CopyTo(buffer, 0);
        _request = LlmRequestParser.Parse(LlmOperation.ChatCompletions, buffer, body.Length, out _)
            ?? throw new InvalidOperationException("the benchmark body must be valid");
    }

    [GlobalCleanup]
    public void Cleanup() => _request.Dispose();

    [Benchmark]
    public string ExactKey() => CacheKeys.Exact("team:bench-team", _request, "gpt-4o-mini");

    [Benchmark]
    public string SemanticContext() =>
        CacheKeys.TrySemantic("team:bench-team", _request, "gpt-4o-mini", null, "text-embedding-3-small", out var text, out var scope)
            ? scope.Context
            : text;
}
