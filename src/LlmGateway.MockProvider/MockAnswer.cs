namespace LlmGateway.MockProvider;

/// <summary>The tokens of one answer, and whether a token cap cut it short (finish reason "length").</summary>
internal sealed record MockAnswer(string[] Tokens, bool Truncated)
{
    public int TokenCount => Tokens.Length;

    public string Text => string.Concat(Tokens);

    public static MockAnswer Create(string? question, MockKnobs knobs, int? maxTokens)
    {
        if (knobs.AnswerText is { } text)
        {
            var words = MockText.Words(text);
            var capped = maxTokens < words.Length;
            return new MockAnswer(capped ? words[..maxTokens!.Value] : words, capped);
        }

        var completionTokens = knobs.CompletionTokens;
        var truncated = maxTokens < completionTokens;
        var count = truncated ? maxTokens!.Value : completionTokens;
        return new MockAnswer(MockText.AnswerTokens(question, count), truncated);
    }
}
