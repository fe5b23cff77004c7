namespace LlmGateway.MockProvider;

/// <summary>
/// Deterministic embeddings in which texts that share words are close, so semantic caching can be tested without
/// a model: feature hashing of lower-cased words, plus their character trigrams at a lower weight so that
/// inflections ("cache", "caching") land near each other, then L2 normalisation.
/// </summary>
/// <remarks>
/// Each feature adds +weight or -weight (a hash bit picks the sign) to one hashed dimension. Signed hashing keeps
/// unrelated texts near cosine 0 instead of sharing a positive bias. FNV-1a is used rather than
/// <see cref="string.GetHashCode()"/> because the latter is randomised per process and vectors must be stable.
/// </remarks>
internal static class MockEmbedding
{
    private const float WordWeight = 1f;
    private const float TrigramWeight = 0.25f;
    private const uint FnvOffsetBasis = 2166136261;
    private const uint FnvPrime = 16777619;

    // Trigrams hash from a different basis than words, so the word "cat" and the trigram "cat" are different features.
    private const uint TrigramBasis = FnvOffsetBasis ^ 0x9E3779B9;

    // Marks the word boundaries in trigrams: "^ca", "cat", "at$".
    private const char WordStart = '^';
    private const char WordEnd = '$';

    public static void Compute(ReadOnlySpan<char> text, Span<float> vector)
    {
        vector.Clear();

        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            var start = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            if (i > start)
            {
                AddWord(text[start..i], vector);
            }
        }

        Normalize(vector);
    }

    private static void AddWord(ReadOnlySpan<char> word, Span<float> vector)
    {
        var wordHash = FnvOffsetBasis;
        var beforePrevious = '\0';
        var previous = WordStart;
        foreach (var original in word)
        {
            var c = char.ToLowerInvariant(original);
            wordHash = (wordHash ^ c) * FnvPrime;
            if (beforePrevious != '\0')
            {
                AddFeature(TrigramHash(beforePrevious, previous, c), TrigramWeight, vector);
            }

            beforePrevious = previous;
            previous = c;
        }

        AddFeature(TrigramHash(beforePrevious, previous, WordEnd), TrigramWeight, vector);
        AddFeature(wordHash, WordWeight, vector);
    }

    private static uint TrigramHash(char a, char b, char c) =>
        (((((TrigramBasis ^ a) * FnvPrime) ^ b) * FnvPrime) ^ c) * FnvPrime;

    private static void AddFeature(uint hash, float weight, Span<float> vector)
    {
        // FNV's low bits mix poorly; the MurmurHash3 finaliser spreads every input bit before the modulo.
        hash ^= hash >> 16;
        hash *= 0x85EBCA6B;
        hash ^= hash >> 13;
        hash *= 0xC2B2AE35;
        hash ^= hash >> 16;

        var index = (int)(hash % (uint)vector.Length);
        vector[index] += (hash & 0x8000_0000) == 0 ? weight : -weight;
    }

    private static void Normalize(Span<float> vector)
    {
        var sumOfSquares = 0d;
        foreach (var value in vector)
        {
            sumOfSquares += value * value;
        }

        // A text without words (empty, or only punctuation) stays the zero vector rather than dividing by zero.
        if (sumOfSquares == 0)
        {
            return;
        }

        var scale = (float)(1 / Math.Sqrt(sumOfSquares));
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] *= scale;
        }
    }
}
