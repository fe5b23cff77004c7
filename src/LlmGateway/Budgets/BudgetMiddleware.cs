using System.Runtime.ExceptionServices;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.Storage;
using LlmGateway.Telemetry;

namespace LlmGateway.Budgets;

/// <summary>
/// Enforces USD budgets per virtual key and per team. Before the call it reserves the request's worst case on every
/// budget that applies, atomically; after the call (also when the client went away or the upstream failed) it
/// settles the metered cost and releases the rest. A request whose worst case does not fit gets 429 <c>budget_exceeded</c>.
/// </summary>
internal sealed partial class BudgetMiddleware(
    RequestDelegate next,
    IBudgetStore store,
    ApplicableBudgets budgets,
    PriceCatalog prices,
    MeteringPolicies policies,
    MeteringWriter writer,
    TimeProvider time,
    RequestTelemetry telemetry,
    ILogger<BudgetMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        // With a shared store the reservation was sent before the rate-limit stage (BudgetLookaheadMiddleware).
        if (context.Features.Get<BudgetLookahead>() is { } lookahead)
        {
            return ReserveAndRunAsync(context, lookahead.Budgets, lookahead.Reserved, lookahead.Take());
        }

        return budgets.For(MeteringFeature.KeyOf(context), time.GetUtcNow()) is { } applicable
            ? ReserveAndRunAsync(context, applicable, reserved: null, pending: null)
            : next(context);
    }

    private async Task ReserveAndRunAsync(HttpContext context, BudgetsOfRequest applicable, long? reserved, Task<BudgetAttempt>? pending)
    {
        var metering = MeteringFeature.GetOrCreate(context, prices, policies);
        var amount = reserved ?? Money.ToPicodollars(metering.WorstCaseCostUsd);
        var counters = applicable.Counters;
        var attempt = await (pending ?? BudgetAttempt.ReserveAsync(store, counters, amount, context.RequestAborted));
        if (attempt.Failure is { } failure)
        {
            if (!RedisConnection.IsUnavailable(failure))
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            if (policies.For(metering.Model).RedisFailureMode == StoreFailureMode.FailClosed)
            {
                LogStoreUnavailable(logger, "refusing", failure.GetType().Name);
                await MeteringErrors.Unavailable().WriteAsync(context.Response);
                return;
            }

            // Serve without a reservation; the settlement below charges the actual cost once Redis is back.
            LogStoreUnavailable(logger, "serving without a reservation", failure.GetType().Name);
            amount = 0;
        }
        else if (!attempt.Reservation.Reserved)
        {
            var refused = applicable.RefusedBy(attempt.Reservation.RefusedBy);
            LogBudgetExceeded(logger, refused.Scope, refused.Name);
            telemetry.RecordRejection(context, "budget_exceeded");
            await MeteringErrors.BudgetExceeded(refused.Scope, refused.Name, Money.FromPicodollars(attempt.Reservation.Committed), refused.Limit.LimitUsd,
                PeriodWords(refused.Limit.Period), metering.WorstCaseCostUsd).WriteAsync(context.Response);
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            // A request that was never metered (an error before metering ran) keeps its worst case: never under-count.
            var actual = metering.Record is { } record ? Money.ToPicodollars(record.CostUsd) : amount;
            var settlementId = metering.RecordId;
            var settled = amount;
            writer.Enqueue(cancellationToken => store.SettleAsync(settlementId, counters, settled, actual, cancellationToken));
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
