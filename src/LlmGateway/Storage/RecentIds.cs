using System.Security.Cryptography;
using System.Text;

namespace LlmGateway.Storage;

/// <summary>
/// The last <c>capacity</c> ids an in-process store has accepted, so that a retried write is applied once. Each id is
/// kept as a 128-bit fingerprint, in two arrays that hold no references: the garbage collector never scans them and
/// never copies an id string to an older generation. The fingerprints sit in a ring, oldest first; the hash table
/// holds only their places in the ring (4 bytes a slot, not 16: 2.6 MB for 100,000 ids instead of 5.8). A record id
/// is a GUID and is kept exactly; any other id is kept as the first 128 bits of its SHA-256, so that nobody can choose
/// an id that passes for another. Not thread-safe: callers hold their own lock.
/// </summary>
internal sealed class RecentIds
{
    private readonly UInt128[] _order;  // a ring: the oldest fingerprint is forgotten first
    private readonly int[] _slots;      // open addressing with linear probing: a place in _order plus one; zero is an empty slot
    private readonly int _shift;
    private int _count;
    private int _next;

    public RecentIds(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _order = new UInt128[capacity];
        var bits = Math.Max(4, 64 - (int)ulong.LeadingZeroCount((ulong)capacity * 2 - 1)); // at most half full
        _slots = new int[1 << bits];
        _shift = 64 - bits;
    }

    public int Count => _count;

    /// <summary>Remembers <paramref name="id"/>; false when it is already among the remembered ones.</summary>
    public bool Add(string id)
    {
        var fingerprint = Fingerprint(id);
        var slot = Probe(fingerprint);
        if (_slots[slot] != 0)
        {
            return false;
        }

        if (_count == _order.Length)
        {
            Remove(_order[_next]);
            slot = Probe(fingerprint); // the removal may have shifted entries into the empty slot found above
        }
        else
        {
            _count++;
        }

        _slots[slot] = _next + 1;
        _order[_next] = fingerprint;
        _next = (_next + 1) % _order.Length;
        return true;
    }

    internal static UInt128 Fingerprint(string id)
    {
        if (Guid.TryParse(id, out var guid))
        {
            Span<byte> bytes = stackalloc byte[16];
            guid.TryWriteBytes(bytes);
            return new UInt128(BitConverter.ToUInt64(bytes[..8]), BitConverter.ToUInt64(bytes[8..]));
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetByteCount(id);
        var utf8 = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(id, utf8);
        SHA256.HashData(utf8, hash);
        return new UInt128(BitConverter.ToUInt64(hash[..8]), BitConverter.ToUInt64(hash[8..16]));
    }

    private int Home(UInt128 fingerprint) =>
        (int)((((ulong)fingerprint) ^ (ulong)(fingerprint >> 64)) * 0x9E3779B97F4A7C15UL >> _shift);

    /// <summary>The slot that holds <paramref name="fingerprint"/>'s place, or else the empty slot that ends its probe chain.</summary>
    private int Probe(UInt128 fingerprint)
    {
        var slot = Home(fingerprint);
        while (_slots[slot] != 0 && _order[_slots[slot] - 1] != fingerprint)
        {
            slot = (slot + 1) & (_slots.Length - 1);
        }

        return slot;
    }

    /// <summary>Takes a fingerprint out and shifts the entries after it back, so that no probe chain is broken.</summary>
    private void Remove(UInt128 fingerprint)
    {
        var mask = _slots.Length - 1;
        var hole = Probe(fingerprint);
        if (_slots[hole] == 0)
        {
            return;
        }

        var next = hole;
        while (true)
        {
            next = (next + 1) & mask;
            if (_slots[next] == 0)
            {
                break;
            }

            // The entry at next may move to the hole only if its home is not cyclically within (hole, next].
            var home = Home(_order[_slots[next] - 1]);
            var stays = hole <= next ? home > hole && home <= next : home > hole || home <= next;
            if (!stays)
            {
                _slots[hole] = _slots[next];
                hole = next;
            }
        }

        _slots[hole] = 0;
    }
}
