using System.Buffers.Binary;
using System.Text;
using LlmGateway.Storage;
using StackExchange.Redis;

namespace LlmGateway.Caching;

/// <summary>
/// Cached answers in Redis, shared by all replicas: one string per answer under <c>llmgw:cache:entry:{key}</c>, in
/// the compact encoding of <see cref="CachedResponseEncoding"/>, expiring with the answer (millisecond TTL). Redis's
/// own <c>maxmemory</c> policy bounds the total. Errors propagate: the cache stage bypasses the cache on them.
/// </summary>
public sealed class RedisResponseCacheStore(RedisConnection redis) : IResponseCacheStore
{
    public const string KeyPrefix = "llmgw:cache:entry:";

    // ARGV[1] = the encoded answer, ARGV[2] = its lifetime (ms). Stored off the request path, so it goes out with the
    // other writes of the moment: usually its own request's settlement (RedisConnection.WriteAsync).
    private static readonly RedisWriteScript s_store = new("cached answer", "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])");

    public async ValueTask<CachedResponse?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var value = await redis.Database.StringGetAsync(KeyPrefix + key).WaitAsync(redis.CommandTimeout, cancellationToken);
        return value.IsNull ? null : CachedResponseEncoding.Decode((byte[])value!);
    }

    public async ValueTask SetAsync(string key, CachedResponse response, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var milliseconds = Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds));
        await redis.WriteAsync(s_store, [KeyPrefix + key], [CachedResponseEncoding.Encode(response), milliseconds]).WaitAsync(cancellationToken);
    }
}

/// <summary>
/// The bytes of one cached answer in Redis: format version (1 byte), kind (1), stored-at as unix milliseconds
/// (8, little-endian), content type length (2, little-endian), content type (UTF-8), then the body as it is.
/// </summary>
internal static class CachedResponseEncoding
{
    private const byte FormatVersion = 1;
    private const int HeaderLength = 1 + 1 + 8 + 2;

    public static byte[] Encode(CachedResponse response)
    {
        var contentTypeLength = Encoding.UTF8.GetByteCount(response.ContentType);
        if (contentTypeLength > ushort.MaxValue)
        {
            throw new ArgumentException("The content type is longer than a cached answer can hold.", nameof(response));
        }

        var bytes = new byte[HeaderLength + contentTypeLength + response.Body.Length];
        var span = bytes.AsSpan();
        span[0] = FormatVersion;
        span[1] = (byte)response.Kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[2..], response.StoredAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], (ushort)contentTypeLength);
        Encoding.UTF8.GetBytes(response.ContentType, span.Slice(HeaderLength, contentTypeLength));
        response.Body.Span.CopyTo(span[(HeaderLength + contentTypeLength)..]);
        return bytes;
    }

    /// <summary>The answer, or null for a format this version does not know (written by a newer gateway: a miss).</summary>
    /// <exception cref="InvalidDataException">The bytes are truncated or name no known kind.</exception>
    public static CachedResponse? Decode(byte[] bytes)
    {
        if (bytes.Length > 0 && bytes[0] != FormatVersion)
        {
            return null;
        }

        if (bytes.Length < HeaderLength)
        {
            throw new InvalidDataException("A cached answer in Redis is shorter than its header.");
        }

        var kind = (CachedResponseKind)bytes[1];
        if (kind is not (CachedResponseKind.Json or CachedResponseKind.EventStream))
        {
            throw new InvalidDataException("A cached answer in Redis names an unknown kind.");
        }

        var storedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(2)));
        var contentTypeLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(10));
        if (bytes.Length < HeaderLength + contentTypeLength)
        {
            throw new InvalidDataException("A cached answer in Redis is shorter than its content type.");
        }

        var contentType = Encoding.UTF8.GetString(bytes, HeaderLength, contentTypeLength);
        var body = new ReadOnlyMemory<byte>(bytes, HeaderLength + contentTypeLength, bytes.Length - HeaderLength - contentTypeLength);
        return new CachedResponse(kind, contentType, body, storedAt);
    }
}
