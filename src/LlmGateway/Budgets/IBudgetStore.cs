namespace LlmGateway.Budgets;

/// <summary>
/// Budget counters shared by all replicas. A counter holds what is committed in its period: settled spend plus the
/// reservations of requests still running. Amounts are picodollars (see <see cref="Metering.Money"/>).
/// </summary>
public interface IBudgetStore
{
    /// <summary>
    /// Adds <paramref name="amount"/> to every counter if none would pass its limit; otherwise changes nothing.
    /// All counters are checked and changed in one atomic step.
    /// </summary>
    ValueTask<BudgetReservation> TryReserveAsync(IReadOnlyList<BudgetCounter> counters, long amount, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a reservation of <paramref name="reserved"/> with the <paramref name="actual"/> cost on every counter.
    /// Idempotent by <paramref name="settlementId"/>: settling twice changes the counters once.
    /// </summary>
    ValueTask SettleAsync(string settlementId, IReadOnlyList<BudgetCounter> counters, long reserved, long actual, CancellationToken cancellationToken = default);

    /// <summary>What a counter holds now (0 when it does not exist).</summary>
    ValueTask<long> GetCommittedAsync(string counterKey, CancellationToken cancellationToken = default);
}

/// <summary>One budget to check: its counter's key (which names the period), its limit, and how long the counter lives.</summary>
public readonly record struct BudgetCounter(string Key, long Limit, TimeSpan? Lifetime);

/// <summary>The outcome of a reservation: when refused, which counter was full and what it held.</summary>
public readonly record struct BudgetReservation(bool Reserved, int RefusedBy, long Committed)
{
    public static readonly BudgetReservation Granted = new(true, -1, 0);
}
