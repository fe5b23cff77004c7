using System.Globalization;
using System.Text;
using LlmGateway.Guardrails.Detection;

namespace LlmGateway.Guardrails;

/// <summary>
/// Replaces matched spans by placeholders: typed (<c>[EMAIL]</c>) or, for reversible masking, numbered
/// (<c>[EMAIL_1]</c>) with the originals kept in a <see cref="MaskingTable"/> so the answer can get them back.
/// </summary>
internal static class Redactor
{
    /// <summary>Sorts the matches and drops any that overlap an earlier (or, at the same start, longer) one.</summary>
    public static void Normalize(List<TextMatch> matches)
    {
        matches.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.Length.CompareTo(a.Length));
        var kept = 0;
        for (var i = 0; i < matches.Count; i++)
        {
            if (kept == 0 || matches[i].Start >= matches[kept - 1].End)
            {
                matches[kept++] = matches[i];
            }
        }

        matches.RemoveRange(kept, matches.Count - kept);
    }

    /// <summary>The text with each (normalized) match replaced; numbered placeholders when a table is given.</summary>
    public static string Apply(string text, List<TextMatch> matches, MaskingTable? table)
    {
        var builder = new StringBuilder(text.Length + matches.Count * 8);
        var position = 0;
        foreach (var match in matches)
        {
            builder.Append(text, position, match.Start - position);
            builder.Append(table is null ? "[" + match.Label + "]" : table.PlaceholderFor(match.Label, text.Substring(match.Start, match.Length)));
            position = match.End;
        }

        builder.Append(text, position, text.Length - position);
        return builder.ToString();
    }
}

/// <summary>The originals behind one request's numbered placeholders. The same value always gets the same placeholder.</summary>
internal sealed class MaskingTable
{
    private readonly Dictionary<string, string> _placeholderByValue = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _valueByPlaceholder = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _countByLabel = new(StringComparer.Ordinal);

    public int Count => _valueByPlaceholder.Count;

    public string PlaceholderFor(string label, string value)
    {
        if (_placeholderByValue.TryGetValue(value, out var existing))
        {
            return existing;
        }

        var number = _countByLabel.GetValueOrDefault(label) + 1;
        _countByLabel[label] = number;
        var placeholder = string.Create(CultureInfo.InvariantCulture, $"[{label}_{number}]");
        _placeholderByValue[value] = placeholder;
        _valueByPlaceholder[placeholder] = value;
        return placeholder;
    }

    /// <summary>Puts the originals back wherever the answer repeats a placeholder.</summary>
    public string Restore(string text)
    {
        if (_valueByPlaceholder.Count == 0 || !text.Contains('[', StringComparison.Ordinal))
        {
            return text;
        }

        var lookup = _valueByPlaceholder.GetAlternateLookup<ReadOnlySpan<char>>();
        var builder = new StringBuilder(text.Length);
        var position = 0;
        while (true)
        {
            var open = text.IndexOf('[', position);
            if (open < 0)
            {
                break;
            }

            builder.Append(text, position, open - position);
            var close = text.IndexOf(']', open);
            if (close > 0 && lookup.TryGetValue(text.AsSpan(open, close - open + 1), out var value))
            {
                builder.Append(value);
                position = close + 1;
            }
            else
            {
                builder.Append('[');
                position = open + 1;
            }
        }

        builder.Append(text, position, text.Length - position);
        return builder.ToString();
    }
}
