using LlmGateway.Configuration;
using LlmGateway.Providers;
using LlmGateway.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Tests.Unit;

public sealed class ModelCatalogTests
{
    private static ModelCatalog CreateCatalog()
    {
        var options = Options.Create(new GatewayOptions
        {
            Providers =
            {
                ["openai"] = new ProviderOptions { Type = ProviderType.OpenAICompatible, BaseUrl = "http://127.0.0.1:1/v1" },
                ["mini"] = new ProviderOptions { Type = ProviderType.OpenAICompatible, BaseUrl = "http://127.0.0.1:2/v1" },
            },
            Models =
            {
                ["fast"] = new ModelOptions { Provider = "mini", UpstreamModel = "gpt-4o-mini", Aliases = ["quick"] },
                ["gpt-*"] = new ModelOptions { Provider = "openai" },
                ["gpt-4o-mini*"] = new ModelOptions { Provider = "mini" },
                ["*"] = new ModelOptions { Provider = "openai", UpstreamModel = "gpt-4o" },
            },
        });
        var configuration = new ConfigurationBuilder().Build();
        return new ModelCatalog(options, new ProviderRegistry(options, configuration), TimeProvider.System);
    }

    [Fact]
    public void ResolvesExactNamesAndAliases_ToTheirUpstreamModel()
    {
        var catalog = CreateCatalog();

        var exact = catalog.Resolve("fast")!;
        exact.Provider.Name.ShouldBe("mini");
        exact.UpstreamModel.ShouldBe("gpt-4o-mini");

        var alias = catalog.Resolve("quick")!;
        alias.PublicModel.ShouldBe("quick");
        alias.UpstreamModel.ShouldBe("gpt-4o-mini");
    }

    [Theory]
    [InlineData("gpt-4.1", "openai", "gpt-4.1")]
    [InlineData("gpt-4o-mini-2024-07-18", "mini", "gpt-4o-mini-2024-07-18")]
    [InlineData("llama-3", "openai", "gpt-4o")]
    public void PassesWildcardMatchesThrough_MostSpecificPatternFirst(string requested, string provider, string upstream)
    {
        var route = CreateCatalog().Resolve(requested)!;
        route.Provider.Name.ShouldBe(provider);
        route.UpstreamModel.ShouldBe(upstream);
        route.PublicModel.ShouldBe(requested);
    }

    [Fact]
    public void ListsExactNamesAndAliases_ButNotPatterns()
    {
        CreateCatalog().Listed.Select(r => r.PublicModel).Order().ShouldBe(["fast", "quick"]);
    }

    [Fact]
    public void ReturnsNull_ForAModelNoRuleMatches()
    {
        var options = Options.Create(new GatewayOptions
        {
            Providers = { ["p"] = new ProviderOptions { Type = ProviderType.OpenAICompatible, BaseUrl = "http://127.0.0.1:1/v1" } },
            Models = { ["gpt-*"] = new ModelOptions { Provider = "p" } },
        });
        var catalog = new ModelCatalog(options, new ProviderRegistry(options, new ConfigurationBuilder().Build()), TimeProvider.System);

        catalog.Resolve("claude-3").ShouldBeNull();
        catalog.Resolve("gpt").ShouldBeNull();
    }
}
