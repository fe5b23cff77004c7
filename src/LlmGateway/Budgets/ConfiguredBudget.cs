using System.Globalization;
using LlmGateway.Metering;

namespace LlmGateway.Budgets;

/// <summary>
/// The budget of one virtual key or team, as configured (budgets are not reloaded), with the counter of its current
/// period kept between requests: a counter's key names its period, so it is made again only when a new period starts.
/// </summary>
internal sealed class ConfiguredBudget(string scope, string name, string keyPrefix, BudgetLimit limit)
{
    private static readonly TimeSpan s_dayCounterLifetime = TimeSpan.FromDays(2);
    private static readonly TimeSpan s_monthCounterLifetime = TimeSpan.FromDays(33);

    private PeriodCounter? _current;

    /// <summary>"virtual key" or "team", as refusals and logs name it.</summary>
    public string Scope { get; } = scope;

    public string Name { get; } = name;

    public BudgetLimit Limit { get; } = limit;

    /// <summary>The counter of the period <paramref name="now"/> falls in.</summary>
    public BudgetCounter CounterAt(DateTimeOffset now)
    {
        var start = PeriodStart(Limit.Period, now);
        var current = Volatile.Read(ref _current);
        if (current is null || current.Start != start)
        {
            // Requests on either side of a period's start may replace each other's counter here; each still gets
            // the counter of its own period, and the next request puts the current one back.
            current = new PeriodCounter(start, CounterFor(keyPrefix, Name, Limit, now));
            Volatile.Write(ref _current, current);
        }

        return current.Counter;
    }

    /// <summary>The budgets of each key or team.</summary>
    public static Dictionary<string, ConfiguredBudget> Index(Dictionary<string, BudgetLimit> budgets, string scope, string keyPrefix)
    {
        var index = new Dictionary<string, ConfiguredBudget>(budgets.Comparer);
        foreach (var (name, limit) in budgets)
        {
            index[name] = new ConfiguredBudget(scope, name, keyPrefix, limit);
        }

        return index;
    }

    /// <summary>The counter of a budget in the period <paramref name="now"/> falls in; replicas must all make the same key.</summary>
    internal static BudgetCounter CounterFor(string keyPrefix, string name, BudgetLimit limit, DateTimeOffset now)
    {
        var (period, lifetime) = limit.Period switch
        {
            BudgetPeriod.Day => (now.UtcDateTime.ToString("'d'yyyyMMdd", CultureInfo.InvariantCulture), s_dayCounterLifetime),
            BudgetPeriod.Month => (now.UtcDateTime.ToString("'m'yyyyMM", CultureInfo.InvariantCulture), s_monthCounterLifetime),
            _ => ("all", (TimeSpan?)null),
        };
        return new BudgetCounter($"llmgw:budget:{keyPrefix}:{name}:{period}", Money.ToPicodollars(limit.LimitUsd), lifetime);
    }

    private static DateTime PeriodStart(BudgetPeriod period, DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return period switch
        {
            BudgetPeriod.Day => utc.Date,
            BudgetPeriod.Month => new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc),
            _ => DateTime.MinValue,
        };
    }

    private sealed record PeriodCounter(DateTime Start, BudgetCounter Counter);
}
