using System.Globalization;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.Storage;
using LlmGateway.Telemetry;
using Microsoft.Extensions.Options;

namespace LlmGateway.Budgets;

/// <summary>
/// Enforces USD budgets per virtual key and per team. Before the call it reserves the request's worst case on every
/// budget that applies, atomically; after the call (also when the client went away or the upstream failed) it
/// settles the metered cost and releases the rest. A request whose worst case does not fit gets 429 <c>budget_exceeded</c>.
/// </summary>
internal sealed partial class BudgetMiddleware(
    RequestDelegate next,
    IBudgetStore store,
    PriceCatalog prices,
    MeteringPolicies policies,
    MeteringWriter writer,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    RequestTelemetry telemetry,
    ILogger<BudgetMiddleware> logger)
{
    private static readonly TimeSpan s_dayCounterLifetime = TimeSpan.FromDays(2);
    private static readonly TimeSpan s_monthCounterLifetime = TimeSpan.FromDays(33);

    private readonly BudgetOptions _budgets = options.Value.Budgets;

    public Task InvokeAsync(HttpContext context)
    {
        var key = MeteringFeature.KeyOf(context);
        var keyBudget = _budgets.Keys.GetValueOrDefault(key.Id);
        var teamBudget = key.Team is null ? null : _budgets.Teams.GetValueOrDefault(key.Team);
        if (keyBudget is null && teamBudget is null)
        {
            return next(context);
        }

        var now = time.GetUtcNow();
        var applicable = new List<(BudgetCounter Counter, string Scope, string Name, BudgetLimit Limit)>(2);
        if (keyBudget is not null)
        {
            applicable.Add((CounterFor("key", key.Id, keyBudget, now), "virtual key", key.Id, keyBudget));
        }

        if (teamBudget is not null)
        {
            applicable.Add((CounterFor("team", key.Team!, teamBudget, now), "team", key.Team!, teamBudget));
        }

        return ReserveAndRunAsync(context, applicable);
    }

    private async Task ReserveAndRunAsync(HttpContext context, List<(BudgetCounter Counter, string Scope, string Name, BudgetLimit Limit)> applicable)
    {
        var metering = MeteringFeature.GetOrCreate(context, prices, policies);
        var counters = applicable.ConvertAll(entry => entry.Counter);
        var reserved = Money.ToPicodollars(metering.WorstCaseCostUsd);
        try
        {
            var reservation = await store.TryReserveAsync(counters, reserved, context.RequestAborted);
            if (!reservation.Reserved)
            {
                var (_, scope, name, limit) = applicable[reservation.RefusedBy];
                LogBudgetExceeded(logger, scope, name);
                telemetry.RecordRejection(context, "budget_exceeded");
                await MeteringErrors.BudgetExceeded(scope, name, Money.FromPicodollars(reservation.Committed), limit.LimitUsd,
                    PeriodWords(limit.Period), metering.WorstCaseCostUsd).WriteAsync(context.Response);
                return;
            }
        }
        catch (Exception exception) when (RedisConnection.IsUnavailable(exception))
        {
            if (policies.For(metering.Model).RedisFailureMode == StoreFailureMode.FailClosed)
            {
                LogStoreUnavailable(logger, "refusing", exception.GetType().Name);
                await MeteringErrors.Unavailable().WriteAsync(context.Response);
                return;
            }

            // Serve without a reservation; the settlement below charges the actual cost once Redis is back.
            LogStoreUnavailable(logger, "serving without a reservation", exception.GetType().Name);
            reserved = 0;
        }

        try
        {
            await next(context);
        }
        finally
        {
            // A request that was never metered (an error before metering ran) keeps its worst case: never under-count.
            var actual = metering.Record is { } record ? Money.ToPicodollars(record.CostUsd) : reserved;
            var settlementId = metering.RecordId;
            writer.Enqueue(cancellationToken => store.SettleAsync(settlementId, counters, reserved, actual, cancellationToken));
        }
    }

    internal static BudgetCounter CounterFor(string scope, string name, BudgetLimit limit, DateTimeOffset now)
    {
        var (period, lifetime) = limit.Period switch
        {
            BudgetPeriod.Day => (now.UtcDateTime.ToString("'d'yyyyMMdd", CultureInfo.InvariantCulture), s_dayCounterLifetime),
            BudgetPeriod.Month => (now.UtcDateTime.ToString("'m'yyyyMM", CultureInfo.InvariantCulture), s_monthCounterLifetime),
            _ => ("all", (TimeSpan?)null),
        };
        return new BudgetCounter($"llmgw:budget:{scope}:{name}:{period}", Money.ToPicodollars(limit.LimitUsd), lifetime);
    }

    private static string PeriodWords(BudgetPeriod period) => period switch
    {
        BudgetPeriod.Day => "today (UTC)",
        BudgetPeriod.Month => "this month (UTC)",
        _ => "in total",
    };

    [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Budget exceeded for {Scope} {Name}: request refused")]
    private static partial void LogBudgetExceeded(ILogger logger, string scope, string name);

    [LoggerMessage(EventId = 521, Level = LogLevel.Warning, Message = "Budget store unavailable ({ExceptionType}): {Action} (Gateway:Metering:RedisFailureMode)")]
    private static partial void LogStoreUnavailable(ILogger logger, string action, string exceptionType);
}
