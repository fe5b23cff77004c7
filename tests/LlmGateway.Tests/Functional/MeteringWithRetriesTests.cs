using System.Net;
using LlmGateway.Metering;
using LlmGateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Functional;

/// <summary>Metering above the resilience stage: a retried stream is metered once, from the attempt that answered.</summary>
public sealed class MeteringWithRetriesTests
{
    [Fact]
    public async Task ARetriedStream_StillAsksForUsage_AndIsMeteredOnceFromTheAnsweringAttempt()
    {
        var settings = new Dictionary<string, string?>();
        DeploymentRig.AddDeployment(settings, "gpt-test", 0, "up0");
        await using var rig = await DeploymentRig.StartAsync(1, settings);
        var upstream = rig.Upstreams[0];
        upstream.Options.FailNextRequests = 1;
        using var client = rig.CreateHttpClient();

        using var response = await client.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), Json(ChatBody("gpt-test", stream: true)), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        upstream.Stats.TotalRequests.ShouldBe(2, "the first attempt failed and was retried");
        text.ShouldNotContain("\"usage\":{");
        var store = rig.Gateway.Services.GetRequiredService<ISpendStore>();
        var now = DateTimeOffset.UtcNow;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var rows = await store.QueryAsync(new SpendQuery(SpendDimension.Total, now.AddHours(-1), now.AddHours(1)), TestContext.Current.CancellationToken);
            if (rows.Count == 1)
            {
                rows[0].Requests.ShouldBe(1);
                rows[0].EstimatedRequests.ShouldBe(0, "the retried attempt still asked for usage");
                rows[0].PromptTokens.ShouldBe(upstream.Stats.ReportedPromptTokens);
                rows[0].CompletionTokens.ShouldBe(upstream.Stats.ReportedCompletionTokens);
                return;
            }

            DateTime.UtcNow.ShouldBeLessThan(deadline, "no record within 10 s");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
