using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LlmGateway.Routing;

namespace LlmGateway.Benchmarks;

/// <summary>Rewriting <c>model</c> in the body, which routing does whenever the upstream knows the model by another name.</summary>
[MemoryDiagnoser]
public class BodyRewriteBenchmarks : IDisposable
{
    private JsonDocument? _document;

    [Params("small", "large")]
    public string Size { get; set; } = "small";

    [GlobalSetup]
    public void Setup() => _document = JsonDocument.Parse(RequestBodies.Get(Size));

    [Benchmark]
    public int WithModel() => UpstreamBody.Rewrite(_document!.RootElement, "gpt-4o-mini-2024-07-18", includeUsage: false).Length;

    public void Dispose()
    {
        _document?.Dispose();
        GC.SuppressFinalize(this);
    }
}
