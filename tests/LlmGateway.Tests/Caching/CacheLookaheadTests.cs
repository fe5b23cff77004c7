using System.Diagnostics;
using System.Net;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using static LlmGateway.Tests.Infrastructure.HttpAssertions;

namespace LlmGateway.Tests.Caching;

/// <summary>
/// With the cache in Redis, a request's exact lookup starts once its route is known, beside the rate-limit and budget
/// round trips, and the cache stage takes its result.
/// </summary>
public sealed class CacheLookaheadTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static void WithAdmission(Dictionary<string, string?> settings)
    {
        settings["Gateway:RateLimits:Keys:alice:RequestsPerMinute"] = "1000";
        settings["Gateway:Budgets:Keys:alice:LimitUsd"] = "100";
        settings["Gateway:Budgets:Keys:alice:Period"] = "Day";
    }

    [Fact]
    public async Task TheExactLookup_ReachesRedisBeforeTheRateLimitAndBudgetScripts_AndItsAnswerIsServed()
    {
        await using var rig = await CacheRig.StartAsync(withRedis: true, WithAdmission);
        var redis = rig.Redis!;
        var question = $"Which river is the longest? {Guid.NewGuid():N}";
        await using var monitor = await ChildProcess.StartAsync(
            Path.Combine(Path.GetDirectoryName(RedisServer.ExecutablePath)!, "redis-cli"), ["-p", redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "monitor"], cancellationToken: Cancel);
        await WaitForAsync(() => monitor.Output.Contains("OK", StringComparison.Ordinal), "redis-cli monitor to start");

        var (miss, _) = await rig.ChatAsync(ChatBody("gpt-test", question: question));
        miss.StatusCode.ShouldBe(HttpStatusCode.OK);
        miss.Headers.GetValues("x-gateway-cache").Single().ShouldBe("miss");
        await WaitForAsync(() => RequestCommands(monitor.Output).Count >= 3, "the request's lookup and admission scripts in the monitor");

        // Redis logs commands in the order it receives them: the lookup first, then the admission scripts, which the
        // gateway sends only after the lookup is on its way. The budget's reservation goes out before the rate limit's
        // script (BudgetLookaheadTests), whose answer the gateway waits for before its budget stage runs.
        var commands = RequestCommands(monitor.Output);
        commands[0].ShouldContain("\"GET\" \"llmgw:cache:entry:", Case.Sensitive, string.Join('\n', commands));
        commands[1].ShouldContain("llmgw:budget:", Case.Sensitive, string.Join('\n', commands));
        commands[2].ShouldContain("llmgw:ratelimit:", Case.Sensitive, string.Join('\n', commands));

        await rig.CacheWritesSettledAsync();
        var calls = rig.UpstreamCalls();
        var (hit, _) = await rig.ChatAsync(ChatBody("gpt-test", question: question));
        hit.StatusCode.ShouldBe(HttpStatusCode.OK);
        hit.Headers.GetValues("x-gateway-cache").Single().ShouldBe("hit");
        rig.UpstreamCalls().ShouldBe(calls);
    }

    [Fact]
    public async Task ARequestRefusedByItsRateLimit_AfterItsLookupStarted_LeavesTheGatewayServing()
    {
        await using var rig = await CacheRig.StartAsync(withRedis: true, settings => settings["Gateway:RateLimits:Keys:alice:RequestsPerMinute"] = "1");
        var (first, _) = await rig.ChatAsync(ChatBody("gpt-test", question: "What is the capital of Peru?"));
        first.StatusCode.ShouldBe(HttpStatusCode.OK);

        var (refused, body) = await rig.ChatAsync(ChatBody("gpt-test", question: "What is the capital of Chile?"));
        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        body.ShouldContain("rate_limit_exceeded");

        var (other, _) = await rig.ChatAsync(ChatBody("gpt-test", question: "What is the capital of Chile?"), TestSettings.OtherVirtualKey);
        other.StatusCode.ShouldBe(HttpStatusCode.OK);
        other.Headers.GetValues("x-gateway-cache").Single().ShouldBe("miss");
    }

    /// <summary>The monitor's lines for the request before its upstream call: cache lookups, and scripts on rate-limit buckets and budget counters.</summary>
    private static List<string> RequestCommands(string monitorOutput)
    {
        var commands = new List<string>();
        foreach (var line in monitorOutput.Split('\n'))
        {
            var lookup = line.Contains("\"GET\" \"llmgw:cache:entry:", StringComparison.Ordinal);
            var script = line.Contains("\"EVAL", StringComparison.Ordinal)
                && (line.Contains("\"llmgw:ratelimit:", StringComparison.Ordinal) || line.Contains("\"llmgw:budget:", StringComparison.Ordinal));
            if (lookup || script)
            {
                commands.Add(line);
            }
        }

        return commands;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), $"waiting for {what}");
            await Task.Delay(20, Cancel);
        }
    }
}
