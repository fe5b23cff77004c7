using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace LlmGateway.Caching;

/// <summary>
/// Cached answers of this process only: the default when no Redis is configured. The answers live in one byte array
/// of the bound's size (the arena, allocated on the first Set; its pages become resident as they are written), as a
/// log of records: a header, the key (UTF-8), the content type and the body. The index maps a 64-bit hash of the key
/// to its record's offset, so the store holds no object per answer: evicting one makes no garbage, and the garbage
/// collector has nothing in it to trace. A Get compares the key it was given with the key in the record, so two keys
/// with one hash never see each other's answer (the later Set replaces the earlier answer).
/// <para>
/// Eviction is FIFO with a second chance (CLOCK on a log): new records are appended at the head; to make room, the
/// record at the tail is dropped, unless it was read since it was written or last moved and has not expired, in which
/// case it is moved to the head, its mark cleared, and the next one is looked at. So an answer read once per lap of
/// the ring stays, and one never read goes after one lap, which is close to LRU at the cost of no work on a hit but
/// setting a mark. Moves per Set are bounded (<see cref="SecondChanceBytesPerSet"/> plus the new record's length) so
/// a ring of answers that are all read cannot make one Set copy the whole arena: past that budget the tail goes
/// marked or not. Expired and replaced answers are misses at once; their bytes are reused when the tail reaches them.
/// </para>
/// <para>
/// A Get copies the body out under the lock: what it returns never points into the arena, which a later Set overwrites.
/// The bound is the arena's size; the index beside it (about 24 bytes per answer held) is not counted.
/// </para>
/// </summary>
public sealed class InMemoryResponseCacheStore : IResponseCacheStore
{
    /// <summary>The bytes of a record before its key: length, kind, mark, lengths, key hash, expiry and stored-at.</summary>
    public const int RecordHeaderBytes = 40;

    /// <summary>Records start at multiples of this, so a gap at the arena's end always holds a padding header.</summary>
    public const int RecordAlignment = 8;

    /// <summary>How many bytes of read answers a Set may move to the head to give them a second chance, besides its own record's length.</summary>
    public const int SecondChanceBytesPerSet = 64 * 1024;

    // The record header, little-endian.
    private const int LengthOffset = 0;
    private const int KindOffset = 4;
    private const int MarkOffset = 5;
    private const int ContentTypeLengthOffset = 6;
    private const int HashOffset = 8;
    private const int ExpiresAtOffset = 16;
    private const int StoredAtOffset = 24;
    private const int KeyLengthOffset = 32;
    private const int BodyLengthOffset = 36;

    // The kind byte of the record that fills the gap at the arena's end when the next record does not fit there.
    private const byte PaddingKind = 0;

    // The mark byte of a record read since it was written or last moved: it gets a second chance at the tail.
    private const byte ReadSinceMoved = 1;

    // Keys up to this many UTF-8 bytes are encoded on the stack; production keys are 64 hex digits.
    private const int StackKeyBytes = 256;

    // Answers come as JSON or event streams, with or without a charset: a few content types in all.
    private const int MaxContentTypes = 8;

    private static readonly long HashSeed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(sizeof(long)));

    private readonly TimeProvider _time;
    private readonly KeyHash _hash;
    private readonly int _capacity;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, int> _index = [];

    // The content types met so far, decoded once: a hit allocates no string for its content type.
    private readonly List<(byte[] Utf8, string Text)> _contentTypes = [];

    private byte[]? _arena;

    // Records occupy [_tail, _head) of the ring, wrapping at _capacity; _used counts their bytes (padding, replaced
    // and expired records included), which tells a full ring from an empty one when _head == _tail.
    private int _head;
    private int _tail;
    private int _used;

    // The bytes of the records the index points at: the answers held now.
    private long _liveBytes;

    public InMemoryResponseCacheStore(TimeProvider time, long maxBytes)
        : this(time, maxBytes, HashKey)
    {
    }

    /// <summary>A store whose keys are hashed by <paramref name="hash"/>: tests make keys collide with it.</summary>
    internal InMemoryResponseCacheStore(TimeProvider time, long maxBytes, KeyHash hash)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, MaxBound);
        _time = time;
        _hash = hash;
        _capacity = (int)(maxBytes - (maxBytes % RecordAlignment));
    }

    /// <summary>The largest bound: the arena is one array.</summary>
    public static long MaxBound => Array.MaxLength;

    /// <summary>The bytes of the answers held now, as counted against the bound (expired answers not yet met included).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _liveBytes;
            }
        }
    }

    /// <summary>The 64-bit hash the index files a key under, of the key's UTF-8 bytes.</summary>
    internal delegate ulong KeyHash(ReadOnlySpan<byte> utf8Key);

    public ValueTask<CachedResponse?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var keyLength = Encoding.UTF8.GetByteCount(key);
        var keyBytes = keyLength <= StackKeyBytes ? stackalloc byte[StackKeyBytes] : new byte[keyLength];
        keyBytes = keyBytes[..Encoding.UTF8.GetBytes(key, keyBytes)];
        var hash = _hash(keyBytes);
        var now = _time.GetUtcNow().UtcTicks;

        CachedResponseKind kind;
        string contentType;
        byte[] body;
        long storedAt;
        lock (_gate)
        {
            if (_arena is not { } arena || !_index.TryGetValue(hash, out var offset))
            {
                return ValueTask.FromResult<CachedResponse?>(null);
            }

            var record = arena.AsSpan(offset, ReadInt32(arena, offset + LengthOffset));
            var storedKeyLength = ReadInt32(arena, offset + KeyLengthOffset);
            if (!record.Slice(RecordHeaderBytes, storedKeyLength).SequenceEqual(keyBytes))
            {
                // Another key with the same hash: its answer is not this key's.
                return ValueTask.FromResult<CachedResponse?>(null);
            }

            if (now >= BinaryPrimitives.ReadInt64LittleEndian(record[ExpiresAtOffset..]))
            {
                Forget(hash, record.Length);
                return ValueTask.FromResult<CachedResponse?>(null);
            }

            record[MarkOffset] = ReadSinceMoved;
            kind = (CachedResponseKind)record[KindOffset];
            storedAt = BinaryPrimitives.ReadInt64LittleEndian(record[StoredAtOffset..]);
            var contentTypeStart = RecordHeaderBytes + storedKeyLength;
            var contentTypeLength = BinaryPrimitives.ReadUInt16LittleEndian(record[ContentTypeLengthOffset..]);
            contentType = ContentTypeOf(record.Slice(contentTypeStart, contentTypeLength));
            body = record.Slice(contentTypeStart + contentTypeLength, ReadInt32(arena, offset + BodyLengthOffset)).ToArray();
        }

        return ValueTask.FromResult<CachedResponse?>(new CachedResponse(kind, contentType, body, new DateTimeOffset(storedAt, TimeSpan.Zero)));
    }

    public ValueTask SetAsync(string key, CachedResponse response, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);

        var keyLength = Encoding.UTF8.GetByteCount(key);
        var keyBytes = keyLength <= StackKeyBytes ? stackalloc byte[StackKeyBytes] : new byte[keyLength];
        keyBytes = keyBytes[..Encoding.UTF8.GetBytes(key, keyBytes)];
        var hash = _hash(keyBytes);
        var contentTypeLength = Encoding.UTF8.GetByteCount(response.ContentType);
        var body = response.Body.Span;
        var length = Align((long)RecordHeaderBytes + keyLength + contentTypeLength + body.Length);
        var now = _time.GetUtcNow().UtcTicks;
        var expiresAt = ttl.Ticks > long.MaxValue - now ? long.MaxValue : now + ttl.Ticks;
        lock (_gate)
        {
            if (_index.TryGetValue(hash, out var older))
            {
                Forget(hash, ReadInt32(_arena!, older + LengthOffset));
            }

            // An answer larger than the whole bound is not kept; the older one under its key is gone all the same, as
            // the caller asked for it to be replaced.
            if (length > _capacity || contentTypeLength > ushort.MaxValue)
            {
                return ValueTask.CompletedTask;
            }

            var arena = _arena ??= GC.AllocateUninitializedArray<byte>(_capacity);
            var offset = MakeRoom((int)length, arena, now);
            var record = arena.AsSpan(offset, (int)length);
            BinaryPrimitives.WriteInt32LittleEndian(record[LengthOffset..], record.Length);
            record[KindOffset] = (byte)response.Kind;
            record[MarkOffset] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(record[ContentTypeLengthOffset..], (ushort)contentTypeLength);
            BinaryPrimitives.WriteUInt64LittleEndian(record[HashOffset..], hash);
            BinaryPrimitives.WriteInt64LittleEndian(record[ExpiresAtOffset..], expiresAt);
            BinaryPrimitives.WriteInt64LittleEndian(record[StoredAtOffset..], response.StoredAt.UtcTicks);
            BinaryPrimitives.WriteInt32LittleEndian(record[KeyLengthOffset..], keyLength);
            BinaryPrimitives.WriteInt32LittleEndian(record[BodyLengthOffset..], body.Length);
            var contents = record[RecordHeaderBytes..];
            keyBytes.CopyTo(contents);
            contents = contents[keyLength..];
            contents = contents[Encoding.UTF8.GetBytes(response.ContentType, contents)..];
            body.CopyTo(contents);

            _index[hash] = offset;
            _liveBytes += length;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Frees <paramref name="length"/> contiguous bytes at the head by dropping (or moving) records at the tail, and
    /// returns where they start, the head moved past them.
    /// </summary>
    private int MakeRoom(int length, byte[] arena, long now)
    {
        var secondChances = SecondChanceBytesPerSet + length;
        while (true)
        {
            if (_used == 0)
            {
                _head = _tail = 0;
            }

            if (_head > _tail || _used == 0)
            {
                // Free: [_head, _capacity) and [0, _tail). A record does not wrap: if it does not fit before the end,
                // the gap there becomes padding and the head goes to 0.
                if (_capacity - _head >= length)
                {
                    return Claim(length);
                }

                BinaryPrimitives.WriteInt32LittleEndian(arena.AsSpan(_head + LengthOffset), _capacity - _head);
                arena[_head + KindOffset] = PaddingKind;
                _used += _capacity - _head;
                _head = 0;
                continue;
            }

            // Free: [_head, _tail), empty when the ring is full.
            if (_tail - _head >= length)
            {
                return Claim(length);
            }

            secondChances -= MoveOrDropTail(arena, now, secondChances);
        }
    }

    private int Claim(int length)
    {
        var offset = _head;
        _head = Wrap(_head + length);
        _used += length;
        return offset;
    }

    /// <summary>
    /// Moves the tail record to the head if it was read since it was last moved, is unexpired and fits in
    /// <paramref name="budget"/>, else drops it. Returns the bytes moved.
    /// </summary>
    private int MoveOrDropTail(byte[] arena, long now, int budget)
    {
        var offset = _tail;
        var length = ReadInt32(arena, offset + LengthOffset);
        _tail = Wrap(offset + length);
        if (arena[offset + KindOffset] == PaddingKind)
        {
            _used -= length;
            return 0;
        }

        var hash = BinaryPrimitives.ReadUInt64LittleEndian(arena.AsSpan(offset + HashOffset));
        if (!_index.TryGetValue(hash, out var indexed) || indexed != offset)
        {
            // Replaced, expired or lost to a colliding key: nothing points here any more.
            _used -= length;
            return 0;
        }

        var wanted = arena[offset + MarkOffset] == ReadSinceMoved
            && now < BinaryPrimitives.ReadInt64LittleEndian(arena.AsSpan(offset + ExpiresAtOffset));
        if (!wanted || length > budget)
        {
            _index.Remove(hash);
            _liveBytes -= length;
            _used -= length;
            return 0;
        }

        // The head is at or before the tail record and the record does not wrap, so it fits at the head; the two
        // may overlap, which a span copy allows.
        var destination = _head;
        arena.AsSpan(offset, length).CopyTo(arena.AsSpan(destination, length));
        arena[destination + MarkOffset] = 0;
        _index[hash] = destination;
        _head = Wrap(destination + length);
        return length;
    }

    private void Forget(ulong hash, int length)
    {
        _index.Remove(hash);
        _liveBytes -= length;
    }

    private string ContentTypeOf(ReadOnlySpan<byte> utf8)
    {
        foreach (var (known, text) in _contentTypes)
        {
            if (utf8.SequenceEqual(known))
            {
                return text;
            }
        }

        var decoded = Encoding.UTF8.GetString(utf8);
        if (_contentTypes.Count < MaxContentTypes)
        {
            _contentTypes.Add((utf8.ToArray(), decoded));
        }

        return decoded;
    }

    private int Wrap(int offset) => offset == _capacity ? 0 : offset;

    private static int ReadInt32(byte[] arena, int offset) => BinaryPrimitives.ReadInt32LittleEndian(arena.AsSpan(offset));

    private static long Align(long length) => (length + RecordAlignment - 1) / RecordAlignment * RecordAlignment;

    private static ulong HashKey(ReadOnlySpan<byte> utf8Key) => XxHash3.HashToUInt64(utf8Key, HashSeed);
}
