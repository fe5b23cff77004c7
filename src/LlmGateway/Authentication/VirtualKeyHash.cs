using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LlmGateway.Authentication;

/// <summary>
/// The SHA-256 of a virtual key. The gateway stores and compares only these, never the keys themselves.
/// Written as <c>sha256:</c> followed by 64 lower-case hex digits.
/// </summary>
public readonly record struct VirtualKeyHash(ulong Part0, ulong Part1, ulong Part2, ulong Part3)
{
    private const string Prefix = "sha256:";

    public static VirtualKeyHash Compute(ReadOnlySpan<char> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        if (maxBytes <= 512)
        {
            Span<byte> utf8 = stackalloc byte[maxBytes];
            var length = Encoding.UTF8.GetBytes(key, utf8);
            SHA256.HashData(utf8[..length], hash);
        }
        else
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key.ToArray()), hash);
        }

        return FromBytes(hash);
    }

    public static bool TryParse(string? text, out VirtualKeyHash hash)
    {
        hash = default;
        if (text is null || text.Length != Prefix.Length + 64 || !text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[SHA256.HashSizeInBytes];
        if (Convert.FromHexString(text.AsSpan(Prefix.Length), bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != bytes.Length)
        {
            return false;
        }

        hash = FromBytes(bytes);
        return true;
    }

    /// <summary>Compares two hashes without an early exit, so the time taken says nothing about where they differ.</summary>
    public bool FixedTimeEquals(VirtualKeyHash other)
    {
        Span<byte> left = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> right = stackalloc byte[SHA256.HashSizeInBytes];
        WriteBytes(left);
        other.WriteBytes(right);
        return CryptographicOperations.FixedTimeEquals(left, right);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[SHA256.HashSizeInBytes];
        WriteBytes(bytes);
        return Prefix + Convert.ToHexStringLower(bytes);
    }

    private static VirtualKeyHash FromBytes(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt64BigEndian(bytes),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));

    private void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Part0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Part1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], Part2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], Part3);
    }
}
