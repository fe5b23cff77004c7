using LlmGateway.Storage;

namespace LlmGateway.Budgets;

/// <summary>Budget counters of this process only: the default when no Redis is configured.</summary>
public sealed class InMemoryBudgetStore : IBudgetStore
{
    private const int RememberedSettlements = 100_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _committed = new(StringComparer.Ordinal);
    private readonly RecentIds _settled = new(RememberedSettlements);

    public ValueTask<BudgetReservation> TryReserveAsync(IReadOnlyList<BudgetCounter> counters, long amount, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            for (var i = 0; i < counters.Count; i++)
            {
                var committed = _committed.GetValueOrDefault(counters[i].Key);
                if (committed + amount > counters[i].Limit)
                {
                    return ValueTask.FromResult(new BudgetReservation(false, i, committed));
                }
            }

            // By index: a foreach through IReadOnlyList would box the list's enumerator on every request.
            for (var i = 0; i < counters.Count; i++)
            {
                _committed[counters[i].Key] = _committed.GetValueOrDefault(counters[i].Key) + amount;
            }
        }

        return ValueTask.FromResult(BudgetReservation.Granted);
    }

    public ValueTask SettleAsync(string settlementId, IReadOnlyList<BudgetCounter> counters, long reserved, long actual, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_settled.Add(settlementId))
            {
                return ValueTask.CompletedTask;
            }

            for (var i = 0; i < counters.Count; i++)
            {
                _committed[counters[i].Key] = _committed.GetValueOrDefault(counters[i].Key) + actual - reserved;
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<long> GetCommittedAsync(string counterKey, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_committed.GetValueOrDefault(counterKey));
        }
    }
}
