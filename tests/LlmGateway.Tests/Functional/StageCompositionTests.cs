using System.Net;
using System.Text.Json;
using LlmGateway.Authentication;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>Stages that each change the upstream request keep each other's changes.</summary>
public sealed class StageCompositionTests
{
    private const string AdminKey = "sk-gw-admin-composition-0004";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AStreamThatFailsOver_IsStillMeteredFromTheUpstreamsOwnUsage_AndHidesTheUsageChunk()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Admin:KeyHash"] = VirtualKeyHash.Compute(AdminKey).ToString(),
            ["Gateway:Models:fo:Strategy"] = "OrderedFallback",
            ["Gateway:Models:fo:Retry:MaxAttempts"] = "2",
            ["Gateway:Models:fo:CircuitBreaker:Enabled"] = "false",
        };
        DeploymentRig.AddDeployment(settings, "fo", 0, "up0", upstreamModel: "first-choice");
        DeploymentRig.AddDeployment(settings, "fo", 1, "up1", upstreamModel: "second-choice");
        await using var rig = await DeploymentRig.StartAsync(2, settings);
        rig.Upstreams[0].Options.FailNextRequests = 1;
        using var client = rig.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("fo", stream: true)), Cancel);

        var text = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        response.Headers.GetValues("x-gateway-attempts").Single().ShouldBe("2");
        text.ShouldContain("\"model\":\"second-choice\"");
        text.ShouldNotContain("\"usage\":{", customMessage: "the client did not ask for usage, so the usage chunk the gateway asked for is hidden");
        rig.Upstreams[0].Stats.TotalRequests.ShouldBe(1);
        rig.Upstreams[1].Stats.TotalRequests.ShouldBe(1);

        var row = await rig.Gateway.SpendRowAsync(AdminKey, "key", "alice");
        row.ValueKind.ShouldBe(JsonValueKind.Object, "the request was metered");
        row.GetProperty("requests").GetInt64().ShouldBe(1);
        row.GetProperty("estimated_requests").GetInt64().ShouldBe(0, "the second deployment was asked for usage too, so nothing was estimated");
        row.GetProperty("completion_tokens").GetInt64().ShouldBe(16, "the mock answers 16 completion tokens by default");
    }
}
