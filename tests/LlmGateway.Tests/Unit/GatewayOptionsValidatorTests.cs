using LlmGateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Unit;

public sealed class GatewayOptionsValidatorTests
{
    private const string ValidHash = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static List<string> Validate(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = configuration.GetSection("Gateway").Get<GatewayOptions>() ?? new GatewayOptions();
        return GatewayOptionsValidator.Collect(options, configuration);
    }

    [Fact]
    public void AcceptsAValidConfiguration()
    {
        Validate(new()
        {
            ["Gateway:Providers:openai:Type"] = "OpenAI",
            ["Gateway:Providers:openai:BaseUrl"] = "https://api.openai.com/v1",
            ["Gateway:Providers:openai:ApiKeyEnvironmentVariable"] = "OPENAI_API_KEY",
            ["Gateway:Providers:demo:Type"] = "Mock",
            ["Gateway:Models:gpt-*:Provider"] = "openai",
            ["Gateway:Models:demo:Provider"] = "demo",
            ["Gateway:Models:demo:Aliases:0"] = "demo-alias",
            ["Gateway:VirtualKeys:k1:KeyHash"] = ValidHash,
        }).ShouldBeEmpty();
    }

    [Fact]
    public void ListsEveryErrorAtOnce_EachNamingItsKey()
    {
        var errors = Validate(new()
        {
            ["Gateway:MaxRequestBodyBytes"] = "0",
            ["Gateway:Providers:openai:Type"] = "OpenAI",
            ["Gateway:Providers:openai:BaseUrl"] = "not a url",
            ["Gateway:Providers:local:Type"] = "OpenAICompatible",
            ["Gateway:Providers:local:ConnectTimeout"] = "-00:00:01",
            ["Gateway:Models:a:Provider"] = "nowhere",
            ["Gateway:Models:b:Provider"] = "openai",
            ["Gateway:Models:b:Aliases:0"] = "a",
            ["Gateway:Models:c*d*:Provider"] = "openai",
            ["Gateway:VirtualKeys:k1:KeyHash"] = "sk-plaintext-key",
            ["Gateway:VirtualKeys:k2:KeyHash"] = ValidHash,
            ["Gateway:VirtualKeys:k3:KeyHash"] = ValidHash,
        });

        errors.ShouldContain(e => e.StartsWith("Gateway:MaxRequestBodyBytes", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:openai:BaseUrl must be an absolute", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:openai:ApiKeyEnvironmentVariable is required", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:local:BaseUrl is required", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:local:ConnectTimeout", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Models:a:Provider names 'nowhere'", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Models:b:Aliases: the model name 'a' is already used", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Models:c*d*: a model pattern may contain at most one", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:VirtualKeys:k1:KeyHash must be 'sha256:'", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:VirtualKeys:k3:KeyHash is the same as the hash of virtual key 'k2'", StringComparison.Ordinal));
        errors.Count.ShouldBe(10);
    }

    [Fact]
    public void ReadsTheBaseUrlFromItsEnvironmentVariable_WhenSet()
    {
        var errors = Validate(new()
        {
            ["Gateway:Providers:openai:Type"] = "OpenAI",
            ["Gateway:Providers:openai:BaseUrl"] = "https://api.openai.com/v1",
            ["Gateway:Providers:openai:BaseUrlEnvironmentVariable"] = "MY_BASE_URL",
            ["Gateway:Providers:openai:ApiKeyEnvironmentVariable"] = "OPENAI_API_KEY",
            ["Gateway:Models:m:Provider"] = "openai",
            ["MY_BASE_URL"] = "ftp://wrong",
        });

        errors.ShouldHaveSingleItem().ShouldContain("environment variable MY_BASE_URL");
    }

    [Fact]
    public void RequiresProvidersAndModels()
    {
        var errors = Validate([]);
        errors.ShouldContain("Gateway:Providers is empty: configure at least one provider.");
        errors.ShouldContain("Gateway:Models is empty: configure at least one model.");
    }

    [Fact]
    public void AcceptsAnthropicAndAzureProviders()
    {
        Validate(new()
        {
            ["Gateway:Providers:claude:Type"] = "Anthropic",
            ["Gateway:Providers:claude:BaseUrl"] = "https://api.anthropic.com/v1",
            ["Gateway:Providers:claude:ApiKeyEnvironmentVariable"] = "ANTHROPIC_API_KEY",
            ["Gateway:Providers:claude:DefaultMaxTokens"] = "8192",
            ["Gateway:Providers:azure:Type"] = "AzureOpenAI",
            ["Gateway:Providers:azure:BaseUrl"] = "https://contoso.openai.azure.com",
            ["Gateway:Providers:azure:ApiKeyEnvironmentVariable"] = "AZURE_OPENAI_API_KEY",
            ["Gateway:Providers:azure:ApiVersion"] = "2025-01-01-preview",
            ["Gateway:Models:claude-*:Provider"] = "claude",
            ["Gateway:Models:gpt-4o:Provider"] = "azure",
            ["Gateway:Models:gpt-4o:UpstreamModel"] = "gpt-4o-prod",
        }).ShouldBeEmpty();
    }

    [Fact]
    public void AnthropicAndAzureProviders_NeedAKey_AndSaneVersionAndTokenDefaults()
    {
        var errors = Validate(new()
        {
            ["Gateway:Providers:claude:Type"] = "Anthropic",
            ["Gateway:Providers:claude:BaseUrl"] = "https://api.anthropic.com/v1",
            ["Gateway:Providers:claude:DefaultMaxTokens"] = "0",
            ["Gateway:Providers:azure:Type"] = "AzureOpenAI",
            ["Gateway:Providers:azure:BaseUrl"] = "https://contoso.openai.azure.com",
            ["Gateway:Providers:azure:ApiVersion"] = "2024 10 21",
            ["Gateway:Models:m:Provider"] = "claude",
        });

        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:claude:ApiKeyEnvironmentVariable is required for an Anthropic provider", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:claude:DefaultMaxTokens must be a positive", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:azure:ApiKeyEnvironmentVariable is required for an AzureOpenAI provider", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("Gateway:Providers:azure:ApiVersion must be a version", StringComparison.Ordinal));
        errors.Count.ShouldBe(4);
    }

    [Fact]
    public void RefusesHedging_OverProvidersWhoseRequestsMustBeTranslated()
    {
        var errors = Validate(new()
        {
            ["Gateway:Providers:claude:Type"] = "Anthropic",
            ["Gateway:Providers:claude:BaseUrl"] = "https://api.anthropic.example/v1",
            ["Gateway:Providers:claude:ApiKeyEnvironmentVariable"] = "ANTHROPIC_API_KEY",
            ["Gateway:Models:m:Provider"] = "claude",
            ["Gateway:Models:m:Hedging:Delay"] = "00:00:02",
        });

        errors.ShouldContain(e => e.StartsWith("Gateway:Models:m:Hedging:Delay is set, but provider 'claude' is of type Anthropic", StringComparison.Ordinal));
    }
}
