using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace LlmGateway.Responses;

/// <summary>Byte buffers from the shared pool that grow by doubling: how the response stages hold bytes without allocating.</summary>
internal static class PooledBytes
{
    private const int MinimumBytes = 4096;

    /// <summary>Makes <paramref name="buffer"/> hold at least <paramref name="needed"/> bytes, keeping its first <paramref name="used"/>.</summary>
    public static void EnsureCapacity([NotNull] ref byte[]? buffer, int used, int needed)
    {
        if (buffer is not null && buffer.Length >= needed)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(MinimumBytes, (buffer?.Length ?? 0) * 2)));
        if (buffer is not null)
        {
            buffer.AsSpan(0, used).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = larger;
    }

    public static void Return(ref byte[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }
}
