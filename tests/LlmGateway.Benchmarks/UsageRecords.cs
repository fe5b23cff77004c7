using LlmGateway.Metering;

namespace LlmGateway.Benchmarks;

/// <summary>The record metering leaves for one chat completion of the benchmark's size, priced, from a keyed team member.</summary>
internal static class UsageRecords
{
    public static readonly UsageRecord Chat = new()
    {
        Id = "01a202b2162b7fe0ab985bc7ed732161",
        Timestamp = DateTimeOffset.UnixEpoch,
        KeyId = "bench",
        Team = "bench-team",
        User = "bench-user",
        Model = "bench-alias",
        UpstreamModel = "gpt-4o-mini",
        Provider = "upstream",
        Deployment = "upstream",
        CacheResult = "miss",
        Operation = "chat.completions",
        StatusCode = 200,
        Latency = TimeSpan.FromMilliseconds(0.6945),
        Usage = new TokenUsage(31, 29, 0, 0),
        CostUsd = 0.00002205m,
        Priced = true,
    };
}
