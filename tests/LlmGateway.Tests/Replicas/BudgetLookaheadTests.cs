using System.Diagnostics;
using System.Globalization;
using System.Net;
using LlmGateway.Tests.Caching;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Replicas;

/// <summary>
/// With budgets in Redis, a request's reservation is sent before the rate-limit stage runs, so the two round trips
/// overlap. The budget stage takes the reservation's answer; a request its rate limit refuses gives the reservation back.
/// </summary>
public sealed class BudgetLookaheadTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string Counter => $"llmgw:budget:key:alice:d{DateTime.UtcNow:yyyyMMdd}";

    [Fact]
    public async Task ARequestRefusedByItsRateLimit_GivesBackTheBudgetItReservedBesideIt()
    {
        await using var rig = await StartAsync(requestsPerMinute: 1, budgetUsd: "100");

        var (served, _) = await rig.ChatAsync(ChatBody("gpt-test", question: $"What is the capital of Peru? {Guid.NewGuid():N}"));
        served.StatusCode.ShouldBe(HttpStatusCode.OK);
        var cost = decimal.Parse(CacheRig.Header(served, "x-gateway-cost-usd"), CultureInfo.InvariantCulture);
        cost.ShouldBeGreaterThan(0m);
        await WaitUntilAsync(async () => await ReadCounterAsync(rig) == cost, "the first request's settlement");

        // The reservation reached Redis before the rate limit's script, whose refusal the client then got; the
        // counter must come back to what the first request spent.
        var (refused, body) = await rig.ChatAsync(ChatBody("gpt-test", question: $"What is the capital of Chile? {Guid.NewGuid():N}"));
        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        body.ShouldContain("rate_limit_exceeded");
        await WaitUntilAsync(async () => await ReadCounterAsync(rig) == cost, "the refused request's reservation to be given back");
    }

    [Fact]
    public async Task ARefusalByTheBudget_TakenFromTheReservationSentEarly_NamesTheBudget_AndChangesNoCounter()
    {
        await using var rig = await StartAsync(requestsPerMinute: 1000, budgetUsd: "0.0000001");

        var (refused, body) = await rig.ChatAsync(ChatBody("gpt-test", question: $"What is the capital of Peru? {Guid.NewGuid():N}"));
        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        body.ShouldContain("\"budget_exceeded\"");
        body.ShouldContain("virtual key 'alice'");
        rig.UpstreamCalls().ShouldBe(0);
        (await ReadCounterAsync(rig)).ShouldBe(0m);
    }

    /// <summary>A gateway with its state in Redis, where alice has a rate limit and a daily budget.</summary>
    private static Task<CacheRig> StartAsync(int requestsPerMinute, string budgetUsd) => CacheRig.StartAsync(withRedis: true, settings =>
    {
        settings["Gateway:RateLimits:Keys:alice:RequestsPerMinute"] = requestsPerMinute.ToString(CultureInfo.InvariantCulture);
        settings["Gateway:Budgets:Keys:alice:LimitUsd"] = budgetUsd;
        settings["Gateway:Budgets:Keys:alice:Period"] = "Day";
    });

    private static async Task<decimal> ReadCounterAsync(CacheRig rig)
    {
        var lines = (await rig.Redis!.ExecuteAsync("GET", Counter)).Split("\r\n");
        return lines[0] == "$-1" ? 0m : long.Parse(lines[1], CultureInfo.InvariantCulture) / 1_000_000_000_000m;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), $"waiting for {what}");
            await Task.Delay(50, Cancel);
        }
    }
}
