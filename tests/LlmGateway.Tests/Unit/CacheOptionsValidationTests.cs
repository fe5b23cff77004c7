using LlmGateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Unit;

public sealed class CacheOptionsValidationTests
{
    private static List<string> Validate(Dictionary<string, string?> cache)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Providers:openai:Type"] = "OpenAI",
            ["Gateway:Providers:openai:BaseUrl"] = "https://api.openai.com/v1",
            ["Gateway:Providers:openai:ApiKeyEnvironmentVariable"] = "OPENAI_API_KEY",
            ["Gateway:Providers:claude:Type"] = "Anthropic",
            ["Gateway:Providers:claude:BaseUrl"] = "https://api.anthropic.com/v1",
            ["Gateway:Providers:claude:ApiKeyEnvironmentVariable"] = "ANTHROPIC_API_KEY",
            ["Gateway:Models:gpt-4o:Provider"] = "openai",
            ["Gateway:Models:text-embedding-3-small:Provider"] = "openai",
            ["Gateway:Models:claude-sonnet:Provider"] = "claude",
        };
        foreach (var (key, value) in cache)
        {
            settings["Gateway:Cache:" + key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return GatewayOptionsValidator.Collect(configuration.GetSection("Gateway").Get<GatewayOptions>()!, configuration);
    }

    [Fact]
    public void AcceptsASemanticCacheWithAnEmbeddingsModel()
    {
        Validate(new()
        {
            ["Enabled"] = "true",
            ["Semantic:Enabled"] = "true",
            ["Semantic:EmbeddingModel"] = "text-embedding-3-small",
            ["Routes:gpt-4o:SimilarityThreshold"] = "0.9",
            ["Routes:gpt-4o:Ttl"] = "00:10:00",
        }).ShouldBeEmpty();
    }

    [Fact]
    public void ListsEveryCacheError_EachNamingItsKey()
    {
        var errors = Validate(new()
        {
            ["Enabled"] = "true",
            ["Ttl"] = "00:00:00",
            ["MaxEntryBytes"] = "0",
            ["MaxInMemoryBytes"] = "4294967296",
            ["Semantic:Enabled"] = "true",
            ["Semantic:SimilarityThreshold"] = "1.5",
            ["Semantic:MaxBatchSize"] = "0",
            ["Routes:nowhere:Enabled"] = "false",
            ["Routes:gpt-4o:SimilarityThreshold"] = "0",
        });

        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:Ttl must be a positive duration", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:MaxEntryBytes", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:MaxInMemoryBytes must be a positive number of bytes, at most", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:Semantic:SimilarityThreshold", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:Semantic:MaxBatchSize", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:Routes:nowhere: there is no model", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:Routes:gpt-4o:SimilarityThreshold", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Cache:Semantic:EmbeddingModel is required", StringComparison.Ordinal));
        errors.Count.ShouldBe(8);
    }

    [Fact]
    public void RefusesAnEmbeddingsModelThatIsMissingOrServedByAnthropic()
    {
        Validate(new() { ["Enabled"] = "true", ["Semantic:Enabled"] = "true", ["Semantic:EmbeddingModel"] = "nope" })
            .ShouldHaveSingleItem().ShouldStartWith("Gateway:Cache:Semantic:EmbeddingModel: 'nope' is not a model");
        Validate(new() { ["Enabled"] = "true", ["Semantic:Enabled"] = "true", ["Semantic:EmbeddingModel"] = "claude-sonnet" })
            .ShouldHaveSingleItem().ShouldContain("no embeddings API");
    }

    [Fact]
    public void ASemanticRouteNeedsTheEmbeddingsModelEvenWhenTheDefaultIsOff()
    {
        Validate(new() { ["Routes:gpt-4o:Enabled"] = "true", ["Routes:gpt-4o:SemanticEnabled"] = "true" })
            .ShouldHaveSingleItem().ShouldStartWith("Gateway:Cache:Semantic:EmbeddingModel is required");
    }
}
