using BenchmarkDotNet.Attributes;
using LlmGateway.Configuration;
using LlmGateway.Providers;
using LlmGateway.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Benchmarks;

/// <summary>Resolving the requested model: exact name, alias, wildcard pattern, and a name nothing serves.</summary>
[MemoryDiagnoser]
public class ModelCatalogBenchmarks
{
    private ModelCatalog? _catalog;

    [Params("gpt-4o-mini", "bench-alias", "gpt-4.1-nano", "unknown-model")]
    public string Model { get; set; } = "gpt-4o-mini";

    [GlobalSetup]
    public void Setup()
    {
        var options = new GatewayOptions
        {
            Providers = { ["upstream"] = new ProviderOptions { Type = ProviderType.OpenAICompatible, BaseUrl = "http://127.0.0.1:9/v1" } },
            Models =
            {
                ["gpt-4o-mini"] = new ModelOptions { Provider = "upstream", Aliases = ["bench-alias"] },
                ["gpt-*"] = new ModelOptions { Provider = "upstream" },
                ["o3*"] = new ModelOptions { Provider = "upstream" },
                ["text-embedding-*"] = new ModelOptions { Provider = "upstream" },
            },
        };
        for (var i = 0; i < 50; i++)
        {
            options.Models[$"team-model-{i}"] = new ModelOptions { Provider = "upstream", UpstreamModel = "gpt-4o-mini" };
        }

        var wrapped = Options.Create(options);
        _catalog = new ModelCatalog(wrapped, new ProviderRegistry(wrapped, new ConfigurationBuilder().Build()), TimeProvider.System);
    }

    [Benchmark]
    public ModelRoute? Resolve() => _catalog!.Resolve(Model);
}
