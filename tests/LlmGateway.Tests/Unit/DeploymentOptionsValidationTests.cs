using LlmGateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Unit;

public sealed class DeploymentOptionsValidationTests
{
    private static List<string> Validate(Dictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>(settings)
        {
            ["Gateway:Providers:a:Type"] = "OpenAICompatible",
            ["Gateway:Providers:a:BaseUrl"] = "http://127.0.0.1:1/v1",
            ["Gateway:Providers:b:Type"] = "OpenAICompatible",
            ["Gateway:Providers:b:BaseUrl"] = "http://127.0.0.1:2/v1",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
        var options = configuration.GetSection("Gateway").Get<GatewayOptions>() ?? new GatewayOptions();
        return GatewayOptionsValidator.Collect(options, configuration);
    }

    [Fact]
    public void AcceptsDeployments_StrategiesAndResilienceSettings()
    {
        Validate(new()
        {
            ["Gateway:Models:m:Strategy"] = "LowestLatency",
            ["Gateway:Models:m:Deployments:0:Provider"] = "a",
            ["Gateway:Models:m:Deployments:0:UpstreamModel"] = "gpt-4o",
            ["Gateway:Models:m:Deployments:0:Weight"] = "3",
            ["Gateway:Models:m:Deployments:1:Provider"] = "b",
            ["Gateway:Models:m:Deployments:1:Priority"] = "1",
            ["Gateway:Models:m:Timeouts:Connect"] = "00:00:02",
            ["Gateway:Models:m:Timeouts:Response"] = "00:15:00",
            ["Gateway:Models:m:Timeouts:Total"] = "00:45:00",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "4",
            ["Gateway:Models:m:CircuitBreaker:BreakDuration"] = "00:01:00",
            ["Gateway:Models:m:Fallbacks:0"] = "n",
            ["Gateway:Models:m:ContextWindowFallback"] = "n",
            ["Gateway:Models:n:Provider"] = "b",
        }).ShouldBeEmpty();
    }

    [Fact]
    public void ListsEveryDeploymentAndResilienceError_EachNamingItsKey()
    {
        var errors = Validate(new()
        {
            ["Gateway:Models:m:Provider"] = "a",
            ["Gateway:Models:s:Provider"] = "a",
            ["Gateway:Models:s:Strategy"] = "Fastest",
            ["Gateway:Models:m:Deployments:0:Provider"] = "nowhere",
            ["Gateway:Models:m:Deployments:0:Weight"] = "0",
            ["Gateway:Models:m:Deployments:1:Provider"] = "b",
            ["Gateway:Models:m:Deployments:1:Priority"] = "-1",
            ["Gateway:Models:m:Deployments:1:UpstreamModel"] = "gpt-*",
            ["Gateway:Models:m:Deployments:2:Provider"] = "b",
            ["Gateway:Models:m:Deployments:2:Name"] = "b/gpt-*",
            ["Gateway:Models:m:Timeouts:Connect"] = "00:00:00",
            ["Gateway:Models:m:Timeouts:Total"] = "00:00:00.001",
            ["Gateway:Models:m:Retry:MaxAttempts"] = "0",
            ["Gateway:Models:m:Retry:BaseDelay"] = "00:00:05",
            ["Gateway:Models:m:Retry:MaxDelay"] = "00:00:01",
            ["Gateway:Models:m:Retry:MaxRetryAfter"] = "-00:00:01",
            ["Gateway:Models:m:CircuitBreaker:FailureRatio"] = "1.5",
            ["Gateway:Models:m:CircuitBreaker:MinimumThroughput"] = "1",
            ["Gateway:Models:m:CircuitBreaker:SamplingDuration"] = "00:00:00.1",
            ["Gateway:Models:m:CircuitBreaker:BreakDuration"] = "00:00:00.1",
            ["Gateway:Models:m:Fallbacks:0"] = "m",
            ["Gateway:Models:m:Fallbacks:1"] = "gpt-*",
            ["Gateway:Models:m:ContextWindowFallback"] = "missing",
            ["Gateway:Models:gpt-*:Provider"] = "a",
        });

        string[] expected =
        [
            "Gateway:Models:m:Provider and Gateway:Models:m:Deployments are both set",
            "Gateway:Models:s:Strategy 'Fastest' is not a routing strategy",
            "Gateway:Models:m:Deployments:0:Provider names 'nowhere'",
            "Gateway:Models:m:Deployments:0:Weight must be between 1 and 1000000",
            "Gateway:Models:m:Deployments:1:Priority must be 0 or more",
            "Gateway:Models:m:Deployments:1:UpstreamModel must be a plain model name",
            "Gateway:Models:m:Deployments:2: the deployment name 'b/gpt-*' is already used by Gateway:Models:m:Deployments:1",
            "Gateway:Models:m:Timeouts:Connect must be positive",
            "Gateway:Models:m:Timeouts:Total must be between",
            "Gateway:Models:m:Retry:MaxAttempts must be between 1",
            "Gateway:Models:m:Retry:MaxDelay must be at least Retry:BaseDelay",
            "Gateway:Models:m:Retry:MaxRetryAfter must not be negative",
            "Gateway:Models:m:CircuitBreaker:FailureRatio",
            "Gateway:Models:m:CircuitBreaker:MinimumThroughput must be at least 2",
            "Gateway:Models:m:CircuitBreaker:SamplingDuration must be between",
            "Gateway:Models:m:CircuitBreaker:BreakDuration must be between",
            "Gateway:Models:m:Fallbacks:0: a model cannot fall back to itself",
            "Gateway:Models:m:Fallbacks:1 names 'gpt-*', which is not a model",
            "Gateway:Models:m:ContextWindowFallback names 'missing', which is not a model",
        ];
        foreach (var prefix in expected)
        {
            errors.ShouldContain(e => e.StartsWith(prefix, StringComparison.Ordinal), $"expected an error starting '{prefix}' in:\n{string.Join('\n', errors)}");
        }

        errors.Count.ShouldBe(expected.Length, string.Join('\n', errors));
    }

    [Fact]
    public void ASingleProviderModel_StillNeedsItsProvider()
    {
        Validate(new() { ["Gateway:Models:m:UpstreamModel"] = "x" })
            .ShouldHaveSingleItem().ShouldStartWith("Gateway:Models:m:Provider is required");
    }
}
