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
    private readonly Dictionary<string, ConfiguredBudget> _keyBudgets = ConfiguredBudget.Index(options.Value.Budgets.Keys, "virtual key", "key");
    private readonly Dictionary<string, ConfiguredBudget> _teamBudgets = ConfiguredBudget.Index(options.Value.Budgets.Teams, "team", "team");

    public Task InvokeAsync(HttpContext context)
    {
        var key = MeteringFeature.KeyOf(context);
        var keyBudget = _keyBudgets.GetValueOrDefault(key.Id);
        var teamBudget = key.Team is null ? null : _teamBudgets.GetValueOrDefault(key.Team);
        if (keyBudget is null && teamBudget is null)
        {
            return next(context);
        }

        var now = time.GetUtcNow();
        BudgetCounter[] counters = keyBudget is null ? [teamBudget!.CounterAt(now)]
            : teamBudget is null ? [keyBudget.CounterAt(now)]
            : [keyBudget.CounterAt(now), teamBudget.CounterAt(now)];
        return ReserveAndRunAsync(context, counters, keyBudget, teamBudget);
    }

    private async Task ReserveAndRunAsync(HttpContext context, BudgetCounter[] counters, ConfiguredBudget? keyBudget, ConfiguredBudget? teamBudget)
    {
        var metering = MeteringFeature.GetOrCreate(context, prices, policies);
        var reserved = Money.ToPicodollars(metering.WorstCaseCostUsd);
        try
        {
            var reservation = await store.TryReserveAsync(counters, reserved, context.RequestAborted);
            if (!reservation.Reserved)
            {
                // Counters are the key's, if it has a budget, then the team's, if it has one.
                var refused = reservation.RefusedBy == 0 ? keyBudget ?? teamBudget! : teamBudget!;
                LogBudgetExceeded(logger, refused.Scope, refused.Name);
                telemetry.RecordRejection(context, "budget_exceeded");
                await MeteringErrors.BudgetExceeded(refused.Scope, refused.Name, Money.FromPicodollars(reservation.Committed), refused.Limit.LimitUsd,
                    PeriodWords(refused.Limit.Period), metering.WorstCaseCostUsd).WriteAsync(context.Response);
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
