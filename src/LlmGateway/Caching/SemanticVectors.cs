using System.Buffers;
using System.Numerics;

namespace LlmGateway.Caching;

/// <summary>What both semantic indexes check and compute the same way: scopes they accept, unit vectors, cosine.</summary>
internal static class SemanticVectors
{
    private const int MaxContextLength = 256;

    // The Redis index writes the context into a FILTER expression and a JSON attribute; these characters need no
    // escaping in either, so a context can never change the meaning of the filter.
    private static readonly SearchValues<char> s_contextCharacters =
        SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:");

    /// <exception cref="ArgumentException">The partition is empty, or the context is empty, too long or has other characters than letters, digits and <c>-_.:</c>.</exception>
    public static void ValidateScope(SemanticScope scope)
    {
        if (string.IsNullOrEmpty(scope.Partition))
        {
            throw new ArgumentException("A semantic scope needs a partition.", nameof(scope));
        }

        if (scope.Context.Length is 0 or > MaxContextLength || scope.Context.AsSpan().ContainsAnyExcept(s_contextCharacters))
        {
            throw new ArgumentException(
                $"A semantic context is 1 to {MaxContextLength} letters, digits or '-', '_', '.', ':' (a hash, as a token).", nameof(scope));
        }
    }

    /// <summary>The unit vector in the direction of <paramref name="embedding"/>.</summary>
    /// <exception cref="ArgumentException">The embedding is empty, zero, or not finite: it has no direction.</exception>
    public static float[] Normalize(ReadOnlySpan<float> embedding)
    {
        var norm = NormOf(embedding);
        var unit = new float[embedding.Length];
        for (var i = 0; i < unit.Length; i++)
        {
            unit[i] = (float)(embedding[i] / norm);
        }

        return unit;
    }

    /// <summary>The length of <paramref name="embedding"/>, which must have one to have a direction.</summary>
    /// <exception cref="ArgumentException">The embedding is empty, zero, or not finite: it has no direction.</exception>
    public static double NormOf(ReadOnlySpan<float> embedding)
    {
        var norm = Math.Sqrt(Dot(embedding, embedding));
        if (embedding.IsEmpty || norm == 0 || !double.IsFinite(norm))
        {
            throw new ArgumentException("An embedding must be a non-empty, non-zero vector of finite numbers.", nameof(embedding));
        }

        return norm;
    }

    /// <summary>The dot product, which is the cosine similarity for two unit vectors of the same length.</summary>
    public static double Dot(ReadOnlySpan<float> left, ReadOnlySpan<float> right)
    {
        var sum = 0d;
        var i = 0;
        if (Vector.IsHardwareAccelerated && left.Length >= Vector<float>.Count)
        {
            var lanes = Vector<float>.Zero;
            for (; i <= left.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                lanes += new Vector<float>(left[i..]) * new Vector<float>(right[i..]);
            }

            sum = Vector.Sum(lanes);
        }

        for (; i < left.Length; i++)
        {
            sum += left[i] * right[i];
        }

        return sum;
    }
}
