using System.Diagnostics.Metrics;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.Storage;
using LlmGateway.Telemetry;
using Microsoft.Extensions.Options;

namespace LlmGateway.Budgets;

/// <summary>
/// Gauges for every configured budget: what remains of it in the current period, its limit, and when the period
/// starts over. A scrape never waits for the budget store: it reports the values of the last refresh and, when those
/// are older than <see cref="TelemetryOptions.BudgetRefreshInterval"/>, starts one refresh in the background. A storm
/// of scrapes therefore costs at most one round of store reads per interval, and no scrapes cost none.
/// </summary>
internal sealed partial class BudgetMetrics : IHostedService
{
    private readonly IBudgetStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _refreshInterval;
    private readonly TrackedBudget[] _budgets;
    private long _refreshStartedTicks;
    private int _refreshing;

    public BudgetMetrics(
        GatewayTelemetry telemetry, IOptions<GatewayOptions> options, IOptions<TelemetryOptions> telemetryOptions, IBudgetStore store, TimeProvider time,
        ILogger<BudgetMetrics> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _refreshInterval = telemetryOptions.Value.BudgetRefreshInterval;
        var budgets = options.Value.Budgets;
        var tracked = new List<TrackedBudget>(budgets.Keys.Count + budgets.Teams.Count);
        foreach (var (keyId, limit) in budgets.Keys)
        {
            tracked.Add(new TrackedBudget("key", keyId, limit));
        }

        foreach (var (team, limit) in budgets.Teams)
        {
            tracked.Add(new TrackedBudget("team", team, limit));
        }

        _budgets = [.. tracked];
        if (_budgets.Length == 0)
        {
            return;
        }

        var meter = telemetry.Meter;
        meter.CreateObservableGauge("llmgateway.budget.remaining", ObserveRemaining, "USD",
            "What remains of each budget in its current period (limit minus settled spend and running reservations), as of the last refresh.");
        meter.CreateObservableGauge("llmgateway.budget.limit", ObserveLimits, "USD", "Each budget's limit per period.");
        meter.CreateObservableGauge("llmgateway.budget.reset_time", ObserveResets, "s",
            "When each daily or monthly budget starts over, in Unix seconds (UTC); lifetime budgets have none.");
    }

    /// <summary>Reads every budget once at start-up, in the background, so that the first scrape has values.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_budgets.Length > 0)
        {
            RefreshIfStale();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<double>> ObserveRemaining()
    {
        RefreshIfStale();
        foreach (var budget in _budgets)
        {
            var remaining = budget.Remaining;
            if (!double.IsNaN(remaining))
            {
                yield return new Measurement<double>(remaining, budget.Tags);
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveLimits()
    {
        foreach (var budget in _budgets)
        {
            yield return new Measurement<double>((double)budget.Limit.LimitUsd, budget.Tags);
        }
    }

    private IEnumerable<Measurement<long>> ObserveResets()
    {
        var now = _time.GetUtcNow();
        foreach (var budget in _budgets)
        {
            if (NextReset(budget.Limit.Period, now) is { } reset)
            {
                yield return new Measurement<long>(reset.ToUnixTimeSeconds(), budget.Tags);
            }
        }
    }

    internal static DateTimeOffset? NextReset(BudgetPeriod period, DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return period switch
        {
            BudgetPeriod.Day => new DateTimeOffset(utc.Date.AddDays(1), TimeSpan.Zero),
            BudgetPeriod.Month => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1),
            _ => null,
        };
    }

    private void RefreshIfStale()
    {
        var now = _time.GetUtcNow().UtcTicks;
        if (now - Volatile.Read(ref _refreshStartedTicks) < _refreshInterval.Ticks || Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        Volatile.Write(ref _refreshStartedTicks, now);
        _ = Task.Run(RefreshAsync);
    }

    private async Task RefreshAsync()
    {
        try
        {
            var now = _time.GetUtcNow();
            foreach (var budget in _budgets)
            {
                var counter = ConfiguredBudget.CounterFor(budget.Scope, budget.Name, budget.Limit, now);
                var committed = await _store.GetCommittedAsync(counter.Key);
                budget.Remaining = (double)(budget.Limit.LimitUsd - Money.FromPicodollars(committed));
            }
        }
        catch (Exception exception) when (RedisConnection.IsUnavailable(exception) || exception is ObjectDisposedException)
        {
            // The gauges keep their last values; the next scrape after the interval tries again.
            LogRefreshFailed(_logger, exception.GetType().Name);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    [LoggerMessage(EventId = 522, Level = LogLevel.Warning, Message = "Budget gauges not refreshed: the budget store is unavailable ({ExceptionType})")]
    private static partial void LogRefreshFailed(ILogger logger, string exceptionType);

    private sealed class TrackedBudget(string scope, string name, BudgetLimit limit)
    {
        public string Scope { get; } = scope;

        public string Name { get; } = name;

        public BudgetLimit Limit { get; } = limit;

        public KeyValuePair<string, object?>[] Tags { get; } =
        [
            new("llm_gateway.budget.scope", scope),
            new("llm_gateway.budget.name", name),
            new("llm_gateway.budget.period", limit.Period switch { BudgetPeriod.Day => "day", BudgetPeriod.Month => "month", _ => "none" }),
        ];

        /// <summary>What remains, in USD, as of the last refresh; NaN until the first refresh read the budget's counter.</summary>
        public double Remaining
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        } = double.NaN;
    }
}
