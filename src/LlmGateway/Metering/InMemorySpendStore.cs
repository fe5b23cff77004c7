using LlmGateway.Storage;

namespace LlmGateway.Metering;

/// <summary>Spend totals of this process only: the default when no Redis is configured.</summary>
public sealed class InMemorySpendStore : ISpendStore
{
    private const int RememberedIds = 100_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<(long Hour, SpendDimension Dimension, string Value), long[]> _totals = [];
    private readonly RecentIds _seen = new(RememberedIds);

    public ValueTask AddAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        var hour = SpendCounters.HourOf(record.Timestamp);
        Span<long> values = stackalloc long[SpendCounters.Metrics.Length];
        SpendCounters.ValuesOf(record, values);
        lock (_gate)
        {
            if (!_seen.Add(record.Id))
            {
                return ValueTask.CompletedTask;
            }

            foreach (var dimension in SpendCounters.Dimensions)
            {
                var key = (hour, dimension, SpendCounters.ValueOf(record, dimension) ?? SpendCounters.NoValue);
                if (!_totals.TryGetValue(key, out var totals))
                {
                    _totals[key] = totals = new long[SpendCounters.Metrics.Length];
                }

                for (var i = 0; i < totals.Length; i++)
                {
                    totals[i] += values[i];
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<SpendRow>> QueryAsync(SpendQuery query, CancellationToken cancellationToken = default)
    {
        var from = SpendCounters.HourOf(query.From);
        var to = SpendCounters.HourOf(query.To);
        var sums = new Dictionary<string, long[]>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var ((hour, dimension, value), totals) in _totals)
            {
                if (dimension != query.GroupBy || hour < from || hour > to)
                {
                    continue;
                }

                if (!sums.TryGetValue(value, out var sum))
                {
                    sums[value] = sum = new long[totals.Length];
                }

                for (var i = 0; i < totals.Length; i++)
                {
                    sum[i] += totals[i];
                }
            }
        }

        IReadOnlyList<SpendRow> rows = [.. sums.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => SpendCounters.ToRow(pair.Key, pair.Value))];
        return ValueTask.FromResult(rows);
    }
}
