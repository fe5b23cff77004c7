namespace LlmGateway.Metering;

/// <summary>
/// Totals of metered usage per hour and per key, team, model, user and project, shared by all replicas.
/// Adding a record is idempotent by its id, so a write retried after a lost reply still counts once.
/// </summary>
public interface ISpendStore
{
    ValueTask AddAsync(UsageRecord record, CancellationToken cancellationToken = default);

    /// <summary>Totals per value of <see cref="SpendQuery.GroupBy"/> over the whole hours that overlap the query's range.</summary>
    ValueTask<IReadOnlyList<SpendRow>> QueryAsync(SpendQuery query, CancellationToken cancellationToken = default);
}

/// <summary>What spend is grouped by.</summary>
public enum SpendDimension
{
    Key,
    Team,
    Model,
    User,
    Project,

    /// <summary>Everything together: one row.</summary>
    Total,
}

public sealed record SpendQuery(SpendDimension GroupBy, DateTimeOffset From, DateTimeOffset To);

public sealed record SpendRow(
    string Value,
    long Requests,
    long PromptTokens,
    long CompletionTokens,
    long CachedPromptTokens,
    long ReasoningTokens,
    decimal CostUsd,
    long EstimatedRequests,
    long UnpricedRequests,
    decimal CacheSavedUsd);

/// <summary>The counters a record adds to, shared by the store implementations so they stay identical.</summary>
internal static class SpendCounters
{
    public const string NoValue = "(none)";

    /// <summary>How long hourly totals are kept.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(93);

    // "saved_pico" came after the others: hours written before it have no such field, and read as 0.
    public static readonly string[] Metrics = ["requests", "prompt", "completion", "cached", "reasoning", "cost_pico", "estimated", "unpriced", "saved_pico"];

    public static readonly SpendDimension[] Dimensions = Enum.GetValues<SpendDimension>();

    public static long HourOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / 3600;

    public static string? ValueOf(UsageRecord record, SpendDimension dimension) => dimension switch
    {
        SpendDimension.Key => record.KeyId,
        SpendDimension.Team => record.Team,
        SpendDimension.Model => record.Model,
        SpendDimension.User => record.User,
        SpendDimension.Project => record.Project,
        _ => "all",
    };

    /// <summary>Writes what a record adds to each of <see cref="Metrics"/>, in their order.</summary>
    public static void ValuesOf(UsageRecord record, Span<long> values)
    {
        values[0] = 1;
        values[1] = record.Usage.PromptTokens;
        values[2] = record.Usage.CompletionTokens;
        values[3] = record.Usage.CachedPromptTokens;
        values[4] = record.Usage.ReasoningTokens;
        values[5] = Money.ToPicodollars(record.CostUsd);
        values[6] = record.Estimated ? 1 : 0;
        values[7] = record.Priced ? 0 : 1;
        values[8] = Money.ToPicodollars(record.SavedCostUsd);
    }

    public static SpendRow ToRow(string value, long[] totals) => new(
        value, totals[0], totals[1], totals[2], totals[3], totals[4], Money.FromPicodollars(totals[5]), totals[6], totals[7], Money.FromPicodollars(totals[8]));
}
