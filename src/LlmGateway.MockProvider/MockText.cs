namespace LlmGateway.MockProvider;

/// <summary>
/// The mock's "model": deterministic answers and token counts, so that tests can predict them exactly.
/// </summary>
/// <remarks>
/// A token is a whitespace-separated word. Prompt tokens of a conversation are, by the rule OpenAI documents for
/// its chat format, 3 per message plus the words of the message's text content (tool definitions, names and tool
/// call arguments are not counted). An answer of N completion tokens has exactly N words.
/// </remarks>
internal static class MockText
{
    /// <summary>Overhead of one message in a conversation, as OpenAI counts it for its chat models.</summary>
    public const int TokensPerMessage = 3;

    // Enough of the question to show which request was answered; beyond that the answer is filler.
    private const int MaxEchoedWords = 12;

    // Every token carries its trailing space so that the concatenated stream deltas equal the full content.
    private static readonly string[] Preamble = ["Mock ", "answer ", "to: "];

    private static readonly string[] Filler =
        ["This ", "is ", "a ", "deterministic ", "reply ", "from ", "the ", "LlmGateway ", "mock ", "provider. "];

    public static int CountWords(ReadOnlySpan<char> text)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// "Mock answer to: " followed by up to 12 words of the question, then filler, cut to <paramref name="count"/>
    /// tokens, each ending with a space.
    /// </summary>
    public static string[] AnswerTokens(string? question, int count)
    {
        if (count == 0)
        {
            return [];
        }

        var tokens = new string[count];
        var i = 0;
        for (; i < count && i < Preamble.Length; i++)
        {
            tokens[i] = Preamble[i];
        }

        var text = question.AsSpan();
        var position = 0;
        for (var echoed = 0; i < count && echoed < MaxEchoedWords && TryReadWord(text, ref position, out var word); echoed++)
        {
            tokens[i++] = string.Concat(word, " ");
        }

        for (var filler = 0; i < count; i++, filler++)
        {
            tokens[i] = Filler[filler % Filler.Length];
        }

        return tokens;
    }

    /// <summary>The words of <paramref name="text"/>, each with one trailing space, as answer tokens.</summary>
    public static string[] Words(string text)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < words.Length; i++)
        {
            words[i] += " ";
        }

        return words;
    }

    private static bool TryReadWord(ReadOnlySpan<char> text, ref int position, out ReadOnlySpan<char> word)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        var start = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        word = text[start..position];
        return word.Length > 0;
    }
}
