using LlmGateway.Metering;

namespace LlmGateway.Budgets;

/// <summary>
/// A budget reservation started before the rate-limit stage, for the budget stage to take. <see cref="Attempt"/>
/// never faults: a failure comes back in its result, so a request refused in between leaves no unobserved exception.
/// </summary>
internal sealed class BudgetLookahead(BudgetsOfRequest budgets, long reserved, Task<BudgetAttempt> attempt)
{
    public BudgetsOfRequest Budgets { get; } = budgets;

    /// <summary>The worst case reserved, in picodollars.</summary>
    public long Reserved { get; } = reserved;

    public Task<BudgetAttempt> Attempt { get; } = attempt;

    /// <summary>Whether the budget stage took the reservation, and with it the settling of it.</summary>
    public bool Taken { get; private set; }

    public Task<BudgetAttempt> Take()
    {
        Taken = true;
        return Attempt;
    }
}

/// <summary>What the store answered to a reservation, or why it could not.</summary>
internal readonly record struct BudgetAttempt(BudgetReservation Reservation, Exception? Failure)
{
    public static async Task<BudgetAttempt> ReserveAsync(IBudgetStore store, BudgetCounter[] counters, long amount, CancellationToken cancellationToken)
    {
        try
        {
            return new BudgetAttempt(await store.TryReserveAsync(counters, amount, cancellationToken), null);
        }
#pragma warning disable CA1031 // The failure is the result: the budget stage decides what it means, as it did when it called the store itself.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return new BudgetAttempt(default, exception);
        }
    }
}

/// <summary>
/// With budgets in a shared store (Redis), sends a request's reservation as soon as its route is known, so that its
/// round trip overlaps the rate-limit stage's instead of following it. The budget stage takes the result and settles
/// as before. A request refused before the budget stage (by its rate limit) gives the reservation back, so a refused
/// request holds budget only for that round trip. With the in-process store a reservation takes no time, and this
/// stage does nothing.
/// </summary>
internal sealed class BudgetLookaheadMiddleware(
    RequestDelegate next,
    IBudgetStore store,
    ApplicableBudgets budgets,
    PriceCatalog prices,
    MeteringPolicies policies,
    MeteringWriter writer,
    TimeProvider time)
{
    private readonly bool _storeIsShared = store is not InMemoryBudgetStore;

    public Task InvokeAsync(HttpContext context)
    {
        if (!_storeIsShared || budgets.For(MeteringFeature.KeyOf(context), time.GetUtcNow()) is not { } applicable)
        {
            return next(context);
        }

        var metering = MeteringFeature.GetOrCreate(context, prices, policies);
        var reserved = Money.ToPicodollars(metering.WorstCaseCostUsd);
        var lookahead = new BudgetLookahead(applicable, reserved, BudgetAttempt.ReserveAsync(store, applicable.Counters, reserved, context.RequestAborted));
        context.Features.Set(lookahead);
        return RunAsync(context, lookahead, metering.RecordId);
    }

    private async Task RunAsync(HttpContext context, BudgetLookahead lookahead, string settlementId)
    {
        try
        {
            await next(context);
        }
        finally
        {
            if (!lookahead.Taken)
            {
                var attempt = await lookahead.Attempt;
                if (attempt.Failure is null && attempt.Reservation.Reserved)
                {
                    var counters = lookahead.Budgets.Counters;
                    var reserved = lookahead.Reserved;
                    writer.Enqueue(cancellationToken => store.SettleAsync(settlementId, counters, reserved, 0, cancellationToken));
                }
            }
        }
    }
}
