using LlmGateway.Storage;
using StackExchange.Redis;

namespace LlmGateway.Budgets;

/// <summary>Budget counters in Redis, checked and changed by Lua scripts so that concurrent replicas cannot overshoot.</summary>
public sealed class RedisBudgetStore(RedisConnection redis) : IBudgetStore
{
    private const int SettlementSeconds = 24 * 3600;

    // ARGV[1] = amount; for counter i: ARGV[2i] = limit, ARGV[2i+1] = lifetime in ms (0: none).
    // Lua compares as doubles (exact to the picodollar up to $9,000; within a few picodollars above); INCRBY is exact.
    private const string ReserveScript = """
        local amount = tonumber(ARGV[1])
        for i = 1, #KEYS do
          local committed = tonumber(redis.call('GET', KEYS[i]) or '0')
          if committed + amount > tonumber(ARGV[2 * i]) then return {0, i - 1, committed} end
        end
        for i = 1, #KEYS do
          redis.call('INCRBY', KEYS[i], ARGV[1])
          local lifetime = tonumber(ARGV[2 * i + 1])
          if lifetime > 0 and redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], lifetime) end
        end
        return {1, -1, 0}
        """;

    // KEYS[#KEYS] = settlement marker; ARGV[1] = delta, ARGV[2] = marker lifetime (s), ARGV[i + 2] = counter i's lifetime (ms).
    // Off the request path, so it goes out with the other writes of the moment (RedisConnection.WriteAsync).
    private static readonly RedisWriteScript s_settle = new("budget settlement", """
        if not redis.call('SET', KEYS[#KEYS], '1', 'NX', 'EX', ARGV[2]) then return 0 end
        for i = 1, #KEYS - 1 do
          redis.call('INCRBY', KEYS[i], ARGV[1])
          local lifetime = tonumber(ARGV[i + 2])
          if lifetime > 0 and redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], lifetime) end
        end
        return 1
        """);

    public async ValueTask<BudgetReservation> TryReserveAsync(IReadOnlyList<BudgetCounter> counters, long amount, CancellationToken cancellationToken = default)
    {
        var keys = new RedisKey[counters.Count];
        var arguments = new RedisValue[1 + 2 * counters.Count];
        arguments[0] = amount;
        for (var i = 0; i < counters.Count; i++)
        {
            keys[i] = counters[i].Key;
            arguments[1 + 2 * i] = counters[i].Limit;
            arguments[2 + 2 * i] = LifetimeMilliseconds(counters[i]);
        }

        var result = (RedisResult[])(await redis.EvaluateAsync(ReserveScript, keys, arguments))!;
        return (int)result[0] == 1 ? BudgetReservation.Granted : new BudgetReservation(false, (int)result[1], (long)result[2]);
    }

    public async ValueTask SettleAsync(string settlementId, IReadOnlyList<BudgetCounter> counters, long reserved, long actual, CancellationToken cancellationToken = default)
    {
        var keys = new RedisKey[counters.Count + 1];
        var arguments = new RedisValue[2 + counters.Count];
        arguments[0] = actual - reserved;
        arguments[1] = SettlementSeconds;
        for (var i = 0; i < counters.Count; i++)
        {
            keys[i] = counters[i].Key;
            arguments[2 + i] = LifetimeMilliseconds(counters[i]);
        }

        keys[^1] = "llmgw:budget:settled:" + settlementId;
        await redis.WriteAsync(s_settle, keys, arguments);
    }

    public async ValueTask<long> GetCommittedAsync(string counterKey, CancellationToken cancellationToken = default)
    {
        var value = await redis.Database.StringGetAsync(counterKey).WaitAsync(redis.CommandTimeout, cancellationToken);
        return value.IsNull ? 0 : (long)value;
    }

    private static long LifetimeMilliseconds(BudgetCounter counter) => (long)(counter.Lifetime?.TotalMilliseconds ?? 0);
}
