using System.Text.RegularExpressions;
using LlmGateway.Guardrails.Detection;

namespace LlmGateway.Guardrails.Streaming;

/// <summary>What the guard lets out after one delta: text to send now, or the name of the guard that blocked.</summary>
public readonly record struct StreamingDecision(string Emit, string? BlockedBy)
{
    public bool Blocked => BlockedBy is not null;
}

/// <summary>
/// Output guards over a stream of text deltas. It holds back only the last <c>window</c> characters, so a value split
/// across deltas ("4111 1111" + " 1111 1111") is whole when it is scanned, and it never releases text that a
/// match (or a placeholder to restore) straddles. Redaction happens in place; a block stops the stream before any
/// of the matched text was released. Not thread-safe: one instance per streamed choice.
/// </summary>
public sealed partial class StreamingTextGuard
{
    /// <summary>Enough for the longest grouped IBAN (42 characters) or card, with room for the text around it.</summary>
    public const int DefaultWindow = 64;

    // Characters of already released text kept as left context, so word-boundary rules still see what came before.
    private const int ContextLength = 16;

    // An unterminated private-key block is held back up to this size, then released redacted as a whole.
    private const int MaxHeldKeyBlock = 16 * 1024;

    private readonly TextGuard[] _guards;
    private readonly MaskingTable? _table;
    private readonly Action<TextGuard, int>? _onAction;
    private readonly int _window;
    private readonly List<TextMatch> _found = [];
    private readonly List<(TextMatch Match, TextGuard Guard)> _matches = [];
    private readonly List<TextMatch> _redactions = [];

    // The scanned text: the released context, then the pending text held back. One buffer, so that a delta costs no
    // string but the one it releases.
    private char[] _text = new char[256];
    private int _contextLength;
    private int _length;
    private string? _blockedBy;

    internal StreamingTextGuard(TextGuard[] guards, MaskingTable? table, Action<TextGuard, int>? onAction, int window = DefaultWindow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _guards = guards;
        _table = table;
        _onAction = onAction;
        _window = window;
    }

    /// <summary>Adds a delta; returns what may be released now (often less than was added, sometimes more).</summary>
    public StreamingDecision Push(string delta)
    {
        if (_blockedBy is not null)
        {
            return new StreamingDecision("", _blockedBy);
        }

        if (_length + delta.Length > _text.Length)
        {
            Array.Resize(ref _text, Math.Max(_text.Length * 2, _length + delta.Length));
        }

        delta.CopyTo(_text.AsSpan(_length));
        _length += delta.Length;
        return Release(final: false);
    }

    /// <summary>The stream ended: scans and releases everything held back.</summary>
    public StreamingDecision Complete() => _blockedBy is not null ? new StreamingDecision("", _blockedBy) : Release(final: true);

    private StreamingDecision Release(bool final)
    {
        ReadOnlySpan<char> scanned = _text.AsSpan(0, _length);
        var offset = _contextLength;
        var pending = scanned[offset..];
        _matches.Clear();
        foreach (var guard in _guards)
        {
            _found.Clear();
            guard.Find(scanned, _found);
            foreach (var match in _found)
            {
                if (match.End <= offset)
                {
                    continue;
                }

                if (guard.Action == GuardAction.Block)
                {
                    _onAction?.Invoke(guard, 1);
                    _blockedBy = guard.Name;
                    _length = _contextLength;
                    return new StreamingDecision("", _blockedBy);
                }

                _matches.Add((new TextMatch(match.Start - offset, match.Length, match.Label), guard));
            }
        }

        var cut = final ? pending.Length : Math.Max(0, pending.Length - _window);
        cut = HoldOpenKeyBlock(pending, cut, final);
        foreach (var (match, _) in _matches)
        {
            if (match.Start < cut && match.End > cut)
            {
                cut = Math.Max(0, match.Start);
            }
        }

        if (_table is { Count: > 0 })
        {
            foreach (var placeholder in PlaceholderPattern().EnumerateMatches(pending))
            {
                if (placeholder.Index < cut && placeholder.Index + placeholder.Length > cut)
                {
                    cut = placeholder.Index;
                }
            }
        }

        if (cut == 0)
        {
            return new StreamingDecision("", null);
        }

        var released = Redact(pending, cut);
        KeepContextUpTo(offset + cut);
        return new StreamingDecision(_table is { Count: > 0 } ? _table.Restore(released) : released, null);
    }

    /// <summary>Drops released text but the last <see cref="ContextLength"/> characters before <paramref name="end"/>, which become the context.</summary>
    private void KeepContextUpTo(int end)
    {
        var start = Math.Max(0, end - ContextLength);
        _text.AsSpan(start, _length - start).CopyTo(_text);
        _contextLength = end - start;
        _length -= start;
    }

    /// <summary>Redacts the matches that end within the released part and reports each once, as it is released.</summary>
    private string Redact(ReadOnlySpan<char> pending, int cut)
    {
        var redactions = _redactions;
        redactions.Clear();
        foreach (var (match, guard) in _matches)
        {
            if (match.End > cut)
            {
                continue;
            }

            _onAction?.Invoke(guard, 1);
            if (guard.Action == GuardAction.Redact)
            {
                // A match that began in text released earlier can only be redacted from here on.
                var start = Math.Max(0, match.Start);
                redactions.Add(new TextMatch(start, match.End - start, match.Label));
            }
        }

        var released = pending[..cut].ToString();
        if (redactions.Count == 0)
        {
            return released;
        }

        Redactor.Normalize(redactions);
        return Redactor.Apply(released, redactions, table: null);
    }

    /// <summary>A private key is far longer than the window: hold from its BEGIN line until its END line arrives.</summary>
    private static int HoldOpenKeyBlock(ReadOnlySpan<char> pending, int cut, bool final)
    {
        var begin = pending.IndexOf("-----BEGIN", StringComparison.Ordinal);
        if (final || begin < 0 || begin >= cut || pending.Length - begin > MaxHeldKeyBlock)
        {
            return cut;
        }

        return pending[begin..].IndexOf("-----END", StringComparison.Ordinal) < 0 ? begin : cut;
    }

    [GeneratedRegex(@"\[[A-Z]+_\d+\]", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderPattern();
}
