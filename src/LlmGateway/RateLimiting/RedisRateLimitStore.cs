using System.Globalization;
using LlmGateway.Storage;
using StackExchange.Redis;

namespace LlmGateway.RateLimiting;

/// <summary>
/// Token buckets in Redis: a hash per bucket (<c>level</c>, <c>at</c>) refilled and taken from by a Lua script that
/// reads Redis's own clock, so replicas with drifting clocks still agree.
/// </summary>
public sealed class RedisRateLimitStore(RedisConnection redis) : IRateLimitStore
{
    // An idle bucket is full again after a minute; keep it a little longer, then let Redis drop it.
    private const int IdleMilliseconds = 120_000;

    // ARGV[2i-1] = limit per minute, ARGV[2i] = amount. Levels are returned as strings: Redis truncates Lua numbers.
    private const string AcquireScript = """
        local clock = redis.call('TIME')
        local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
        local levels = {}
        local refused = -1
        for i = 1, #KEYS do
          local limit = tonumber(ARGV[2 * i - 1])
          local state = redis.call('HMGET', KEYS[i], 'level', 'at')
          local level = limit
          if state[1] then level = math.min(limit, tonumber(state[1]) + (now - tonumber(state[2])) * limit / 60000) end
          levels[i] = level
          if refused < 0 and level < tonumber(ARGV[2 * i]) then refused = i - 1 end
        end
        local result = {refused}
        for i = 1, #KEYS do
          if refused < 0 then
            levels[i] = levels[i] - tonumber(ARGV[2 * i])
            redis.call('HSET', KEYS[i], 'level', tostring(levels[i]), 'at', now)
            redis.call('PEXPIRE', KEYS[i], ARGV[#ARGV])
          end
          result[i + 1] = tostring(levels[i])
        end
        return result
        """;

    // ARGV[1] = limit per minute, ARGV[2] = amount to put back, ARGV[3] = idle lifetime (ms). Off the request path, so
    // it goes out with the other writes of the moment (RedisConnection.WriteAsync).
    private static readonly RedisWriteScript s_return = new("rate-limit give-back", """
        local state = redis.call('HMGET', KEYS[1], 'level', 'at')
        if not state[1] then return 0 end
        local clock = redis.call('TIME')
        local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
        local limit = tonumber(ARGV[1])
        local level = math.min(limit, tonumber(state[1]) + (now - tonumber(state[2])) * limit / 60000 + tonumber(ARGV[2]))
        redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', now)
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 1
        """);

    public async ValueTask<RateLimitResult> TryAcquireAsync(IReadOnlyList<RateLimitBucket> buckets, CancellationToken cancellationToken = default)
    {
        var keys = new RedisKey[buckets.Count];
        var arguments = new RedisValue[2 * buckets.Count + 1];
        for (var i = 0; i < buckets.Count; i++)
        {
            keys[i] = buckets[i].Key;
            arguments[2 * i] = buckets[i].PerMinute;
            arguments[2 * i + 1] = buckets[i].Amount;
        }

        arguments[^1] = IdleMilliseconds;
        var result = (RedisResult[])(await redis.EvaluateAsync(AcquireScript, keys, arguments))!;
        var levels = new double[buckets.Count];
        for (var i = 0; i < levels.Length; i++)
        {
            levels[i] = double.Parse((string)result[i + 1]!, CultureInfo.InvariantCulture);
        }

        var refusedBy = (int)result[0];
        return new RateLimitResult(refusedBy < 0, refusedBy, levels);
    }

    public async ValueTask ReturnAsync(RateLimitBucket bucket, long amount, CancellationToken cancellationToken = default) =>
        await redis.WriteAsync(s_return, [bucket.Key], [bucket.PerMinute, amount, IdleMilliseconds]);
}
