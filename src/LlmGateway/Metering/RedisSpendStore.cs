using System.Globalization;
using LlmGateway.Storage;
using StackExchange.Redis;

namespace LlmGateway.Metering;

/// <summary>
/// Spend totals in Redis, shared by all replicas: one hash per hour (<c>llmgw:spend:{hour}</c>) whose fields are
/// <c>dimension \n value \n metric</c>. A Lua script adds a record's counters and marks its id in one step.
/// </summary>
public sealed class RedisSpendStore(RedisConnection redis) : ISpendStore
{
    private const int MaxQueryHours = 93 * 24;
    private const int RecordIdSeconds = 24 * 3600;

    // Off the request path, so it goes out with the other writes of the moment (RedisConnection.WriteAsync). The records
    // of one command are added up in Lua and each hour's field written once: many requests' records cost Redis one
    // HINCRBY per field, not one per field and record. Each record still counts only if its id is new. Lua's numbers hold
    // every integer below 2^53; sums are kept below 2^52, and an amount that would pass that is added by Redis itself,
    // from its text.
    // KEYS[1] = the hour's hash, KEYS[2] = the record's id marker; ARGV[1] = the hash's lifetime (s), ARGV[2] = the
    // marker's (s), then field and amount pairs.
    private static readonly RedisWriteScript s_add = new("spend record", """
        if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 0 end
        local hour = STATE[KEYS[1]]
        if not hour then
          hour = {lifetime = ARGV[1], sums = {}}
          STATE[KEYS[1]] = hour
        end
        for i = 3, #ARGV, 2 do
          local field, amount = ARGV[i], tonumber(ARGV[i + 1])
          local sum = hour.sums[field]
          if math.abs(amount) >= 2^52 or (sum and math.abs(sum + amount) >= 2^52) then
            redis.call('HINCRBY', KEYS[1], field, ARGV[i + 1])
          else
            hour.sums[field] = (sum or 0) + amount
          end
        end
        return 1
        """, finish: """
        for key, hour in pairs(STATE) do
          for field, sum in pairs(hour.sums) do
            redis.call('HINCRBY', key, field, string.format('%.0f', sum))
          end
          redis.call('EXPIRE', key, hour.lifetime)
        end
        """);

    public async ValueTask AddAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        Span<long> values = stackalloc long[SpendCounters.Metrics.Length];
        SpendCounters.ValuesOf(record, values);
        var arguments = new List<RedisValue>(2 + SpendCounters.Dimensions.Length * values.Length * 2)
        {
            (long)SpendCounters.Retention.TotalSeconds,
            RecordIdSeconds,
        };
        foreach (var dimension in SpendCounters.Dimensions)
        {
            var prefix = FieldPrefix(dimension, SpendCounters.ValueOf(record, dimension) ?? SpendCounters.NoValue);
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] != 0)
                {
                    arguments.Add(prefix + SpendCounters.Metrics[i]);
                    arguments.Add(values[i]);
                }
            }
        }

        RedisKey[] keys = [HourKey(SpendCounters.HourOf(record.Timestamp)), "llmgw:spend:record:" + record.Id];
        await redis.WriteAsync(s_add, keys, [.. arguments]);
    }

    public async ValueTask<IReadOnlyList<SpendRow>> QueryAsync(SpendQuery query, CancellationToken cancellationToken = default)
    {
        var from = SpendCounters.HourOf(query.From);
        var to = Math.Min(SpendCounters.HourOf(query.To), from + MaxQueryHours);
        var database = redis.Database;
        var reads = new List<Task<HashEntry[]>>();
        for (var hour = from; hour <= to; hour++)
        {
            reads.Add(database.HashGetAllAsync(HourKey(hour)).WaitAsync(redis.CommandTimeout, cancellationToken));
        }

        var dimensionPrefix = DimensionName(query.GroupBy) + "\n";
        var sums = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var read in reads)
        {
            foreach (var entry in await read)
            {
                var field = (string)entry.Name!;
                if (!field.StartsWith(dimensionPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var metricStart = field.LastIndexOf('\n');
                var value = field[dimensionPrefix.Length..metricStart];
                var metric = Array.IndexOf(SpendCounters.Metrics, field[(metricStart + 1)..]);
                if (metric < 0)
                {
                    continue;
                }

                if (!sums.TryGetValue(value, out var sum))
                {
                    sums[value] = sum = new long[SpendCounters.Metrics.Length];
                }

                sum[metric] += (long)entry.Value;
            }
        }

        return [.. sums.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => SpendCounters.ToRow(pair.Key, pair.Value))];
    }

    private static string HourKey(long hour) => "llmgw:spend:" + hour.ToString(CultureInfo.InvariantCulture);

    private static string FieldPrefix(SpendDimension dimension, string value) => DimensionName(dimension) + "\n" + value + "\n";

    private static string DimensionName(SpendDimension dimension) => dimension switch
    {
        SpendDimension.Key => "key",
        SpendDimension.Team => "team",
        SpendDimension.Model => "model",
        SpendDimension.User => "user",
        SpendDimension.Project => "project",
        _ => "total",
    };
}
