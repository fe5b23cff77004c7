using System.Buffers.Binary;
using System.Globalization;
using LlmGateway.Storage;
using StackExchange.Redis;

namespace LlmGateway.Caching;

/// <summary>
/// The semantic index in Redis 8 vector sets, shared by all replicas. One vector set per partition
/// (<c>llmgw:cache:vectors:{partition}</c>) whose elements are entry keys, with the JSON attributes
/// <c>{"c": context, "e": expiry in unix ms}</c> that every search filters on; beside it a sorted set of the same
/// elements by expiry (<c>llmgw:cache:vectors-expiry:{partition}</c>) that one Lua script uses on every add to drop
/// expired elements and the first to expire beyond the bound, and to push both keys' TTL out to the last expiry.
/// </summary>
/// <remarks>
/// VSIM scores are (1 + cosine) / 2, in [0, 1]; searches convert them back to cosine. Vectors are stored with Redis's
/// default 8-bit quantisation, which moves a cosine by about a thousandth. Errors propagate: the cache stage bypasses.
/// </remarks>
public sealed class RedisSemanticIndex : ISemanticIndex
{
    public const string VectorsKeyPrefix = "llmgw:cache:vectors:";
    public const string ExpiryKeyPrefix = "llmgw:cache:vectors-expiry:";

    private const string AddScript = """
        redis.call('VADD', KEYS[1], 'FP32', ARGV[1], ARGV[2], 'Q8', 'SETATTR', ARGV[3])
        redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
        local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
        local excess = redis.call('ZCARD', KEYS[2]) - #gone - tonumber(ARGV[6])
        if excess > 0 then
            for _, element in ipairs(redis.call('ZRANGE', KEYS[2], #gone, #gone + excess - 1)) do
                gone[#gone + 1] = element
            end
        end
        for _, element in ipairs(gone) do
            redis.call('VREM', KEYS[1], element)
            redis.call('ZREM', KEYS[2], element)
        end
        local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        if last[2] then
            local ttl = tonumber(last[2]) - tonumber(ARGV[5])
            redis.call('PEXPIRE', KEYS[1], ttl)
            redis.call('PEXPIRE', KEYS[2], ttl)
        end
        return #gone
        """;

    private const string RemoveScript = """
        redis.call('VREM', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        return 0
        """;

    private readonly RedisConnection _redis;
    private readonly TimeProvider _time;
    private readonly int _maxEntriesPerPartition;
    private readonly string _filterEffort;

    public RedisSemanticIndex(RedisConnection redis, TimeProvider time, int maxEntriesPerPartition)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEntriesPerPartition);
        _redis = redis;
        _time = time;
        _maxEntriesPerPartition = maxEntriesPerPartition;

        // A search's filter (this context, unexpired) can match few elements of a big partition, and VSIM stops
        // looking after FILTER-EF candidates (by default 100 per result). A partition holds at most this many
        // elements, so with it a search may visit all of them before it gives up: a rare context is still found.
        _filterEffort = maxEntriesPerPartition.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Whether the Redis behind <paramref name="redis"/> has vector sets (Redis 8.0 or later): asks for the size of a
    /// vector set that does not exist, which Redis 7 answers with "unknown command".
    /// </summary>
    /// <exception cref="RedisException">Redis could not be asked (not reachable, or another error).</exception>
    public static async Task<bool> SupportsVectorSetsAsync(RedisConnection redis)
    {
        try
        {
            await redis.Database.ExecuteAsync("VCARD", (RedisKey)(VectorsKeyPrefix + "capability-probe")).WaitAsync(RedisConnection.CommandTimeout);
            return true;
        }
        catch (RedisServerException exception) when (exception.Message.Contains("unknown command", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
    }

    public async ValueTask<SemanticMatch?> SearchAsync(SemanticScope scope, ReadOnlyMemory<float> embedding, double minSimilarity, CancellationToken cancellationToken)
    {
        SemanticVectors.ValidateScope(scope);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var filter = string.Create(CultureInfo.InvariantCulture, $".c == \"{scope.Context}\" and .e > {now}");
        var arguments = new List<object>(14)
        {
            (RedisKey)(VectorsKeyPrefix + scope.Partition), "FP32", Blob(embedding.Span), "WITHSCORES", "COUNT", 1,
        };

        // EPSILON bounds the cosine distance (1 - cosine) of what is returned, so that Redis can give up early on a
        // miss. Redis 8.0 compares it to that distance; its documentation compares it to 1 - score, which would only
        // admit more: either way the threshold is checked again below.
        if (minSimilarity > -1)
        {
            arguments.Add("EPSILON");
            arguments.Add((1 - Math.Min(minSimilarity, 1)).ToString("R", CultureInfo.InvariantCulture));
        }

        arguments.Add("FILTER");
        arguments.Add(filter);
        arguments.Add("FILTER-EF");
        arguments.Add(_filterEffort);

        var result = await _redis.Database.ExecuteAsync("VSIM", [.. arguments]).WaitAsync(RedisConnection.CommandTimeout, cancellationToken);
        var items = (RedisResult[])result!;
        if (items.Length < 2)
        {
            return null;
        }

        var similarity = Math.Clamp(2 * double.Parse((string)items[1]!, NumberStyles.Float, CultureInfo.InvariantCulture) - 1, -1, 1);
        return similarity >= minSimilarity ? new SemanticMatch((string)items[0]!, similarity) : null;
    }

    public async ValueTask AddAsync(SemanticScope scope, string entryKey, ReadOnlyMemory<float> embedding, TimeSpan ttl, CancellationToken cancellationToken)
    {
        SemanticVectors.ValidateScope(scope);
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);

        // Redis normalises vectors itself; this refuses the ones without a direction, as the in-memory index does.
        SemanticVectors.Normalize(embedding.Span);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var expiresAt = now + Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds));
        var attributes = string.Create(CultureInfo.InvariantCulture, $$"""{"c":"{{scope.Context}}","e":{{expiresAt}}}""");
        RedisKey[] keys = [VectorsKeyPrefix + scope.Partition, ExpiryKeyPrefix + scope.Partition];
        RedisValue[] values = [Blob(embedding.Span), entryKey, attributes, expiresAt, now, _maxEntriesPerPartition];
        await _redis.EvaluateAsync(AddScript, keys, values).WaitAsync(cancellationToken);
    }

    public async ValueTask RemoveAsync(SemanticScope scope, string entryKey, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [VectorsKeyPrefix + scope.Partition, ExpiryKeyPrefix + scope.Partition];
        await _redis.EvaluateAsync(RemoveScript, keys, [entryKey]).WaitAsync(cancellationToken);
    }

    /// <summary>The vector as VADD and VSIM take it after <c>FP32</c>: little-endian 32-bit floats.</summary>
    private static byte[] Blob(ReadOnlySpan<float> vector)
    {
        var blob = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan(i * sizeof(float)), vector[i]);
        }

        return blob;
    }
}
