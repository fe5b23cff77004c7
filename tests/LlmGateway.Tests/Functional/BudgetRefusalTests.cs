using System.Net;
using LlmGateway.Authentication;
using LlmGateway.MockProvider;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>A refusal names the budget that is short, whether the key's or its team's, with that budget's limit and period.</summary>
public sealed class BudgetRefusalTests : IAsyncLifetime
{
    private const string CarolKey = "sk-gw-test-carol-0004";

    private MockProviderServer _upstream = null!;
    private GatewayServer _gateway = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = TestSettings.UpstreamApiKey });
        var settings = TestSettings.Standard(_upstream.BaseAddress);
        settings["Gateway:Metering:Prices:gpt-test:Input"] = "2.5";
        settings["Gateway:Metering:Prices:gpt-test:Output"] = "10";

        // alice's own budget is ample and her team's is not; bob's is the other way round; carol has only a team budget.
        settings["Gateway:Budgets:Keys:alice:LimitUsd"] = "1";
        settings["Gateway:Budgets:Keys:alice:Period"] = "Day";
        settings["Gateway:Budgets:Teams:team-a:LimitUsd"] = "0.000001";
        settings["Gateway:Budgets:Keys:bob:LimitUsd"] = "0.000002";
        settings["Gateway:Budgets:Keys:bob:Period"] = "None";
        settings["Gateway:Budgets:Teams:team-b:LimitUsd"] = "1";
        settings["Gateway:VirtualKeys:carol:KeyHash"] = VirtualKeyHash.Compute(CarolKey).ToString();
        settings["Gateway:VirtualKeys:carol:Team"] = "team-c";
        settings["Gateway:Budgets:Teams:team-c:LimitUsd"] = "0.000003";
        settings["Gateway:Budgets:Teams:team-c:Period"] = "Day";
        _gateway = await GatewayServer.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData(TestSettings.VirtualKey, "Budget exceeded for team 'team-a': $0 of $0.000001 is spent or reserved this month (UTC)")]
    [InlineData(TestSettings.OtherVirtualKey, "Budget exceeded for virtual key 'bob': $0 of $0.000002 is spent or reserved in total")]
    [InlineData(CarolKey, "Budget exceeded for team 'team-c': $0 of $0.000003 is spent or reserved today (UTC)")]
    public async Task TheRefusal_NamesTheBudgetThatIsShort(string virtualKey, string expected)
    {
        using var client = _gateway.CreateHttpClient(virtualKey);

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test")), Cancel);

        var error = await response.ShouldBeOpenAiErrorAsync(HttpStatusCode.TooManyRequests, "budget_exceeded");
        error.GetProperty("message").GetString()!.ShouldStartWith(expected + ", and this request may cost up to $");
    }
}
