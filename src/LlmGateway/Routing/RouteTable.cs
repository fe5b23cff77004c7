namespace LlmGateway.Routing;

/// <summary>
/// Per-route settings keyed like <c>Gateway:Models</c> (an exact model name, alias or <c>*</c> pattern), looked up by
/// the model a request asked for: exact names first, then the most specific pattern, else the default.
/// </summary>
public sealed class RouteTable<T>
{
    private readonly T _default;
    private readonly Dictionary<string, T> _exact = new(StringComparer.Ordinal);
    private readonly List<(string Prefix, string Suffix, T Value)> _patterns = [];

    public RouteTable(T defaultValue)
    {
        _default = defaultValue;
    }

    public T Default => _default;

    /// <summary>Adds the settings of one route; <paramref name="route"/> may hold one <c>*</c>.</summary>
    public void Add(string route, T value)
    {
        var star = route.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
        {
            _exact[route] = value;
            return;
        }

        _patterns.Add((route[..star], route[(star + 1)..], value));
        _patterns.Sort((a, b) => (b.Prefix.Length + b.Suffix.Length).CompareTo(a.Prefix.Length + a.Suffix.Length));
    }

    /// <summary>The settings for a request that asked for <paramref name="model"/>.</summary>
    public T For(string model)
    {
        if (_exact.Count == 0 && _patterns.Count == 0)
        {
            return _default;
        }

        if (_exact.TryGetValue(model, out var value))
        {
            return value;
        }

        foreach (var (prefix, suffix, patternValue) in _patterns)
        {
            if (model.Length >= prefix.Length + suffix.Length
                && model.StartsWith(prefix, StringComparison.Ordinal)
                && model.EndsWith(suffix, StringComparison.Ordinal))
            {
                return patternValue;
            }
        }

        return _default;
    }
}
