using System.Collections.Concurrent;
using System.Text.Json;
using LlmGateway.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Metering;

/// <summary>
/// Prices per model: the shipped <c>Metering/prices.json</c>, overridden and extended by <c>Gateway:Metering:Prices</c>.
/// A model is looked up by its public name, then by its upstream name; a dated snapshot such as
/// <c>gpt-4o-2024-08-06</c> falls back to its base model. A model found nowhere is unpriced.
/// </summary>
public sealed class PriceCatalog
{
    public const string ShippedPricesFile = "Metering/prices.json";

    private readonly Dictionary<string, ModelPrice> _prices;
    private readonly ConcurrentDictionary<(string, string), ModelPrice?> _resolved = new();

    public PriceCatalog(IOptions<GatewayOptions> options)
        : this(LoadShipped(Path.Combine(AppContext.BaseDirectory, ShippedPricesFile)), options.Value.Metering.Prices)
    {
    }

    internal PriceCatalog(Dictionary<string, ModelPrice> shipped, IReadOnlyDictionary<string, ModelPrice> overrides)
    {
        _prices = new Dictionary<string, ModelPrice>(shipped, StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in overrides)
        {
            _prices[model] = price;
        }
    }

    public int Count => _prices.Count;

    /// <summary>The price of a request for <paramref name="publicModel"/> served as <paramref name="upstreamModel"/>, or null.</summary>
    public ModelPrice? Find(string publicModel, string upstreamModel) =>
        _resolved.TryGetValue((publicModel, upstreamModel), out var price)
            ? price
            : _resolved.GetOrAdd((publicModel, upstreamModel), Resolve(publicModel) ?? Resolve(upstreamModel));

    private ModelPrice? Resolve(string model)
    {
        if (_prices.TryGetValue(model, out var price))
        {
            return price;
        }

        var undated = WithoutDateSuffix(model);
        return undated is not null && _prices.TryGetValue(undated, out price) ? price : null;
    }

    /// <summary>Strips a snapshot date: <c>-2024-08-06</c> or <c>-20250929</c>.</summary>
    internal static string? WithoutDateSuffix(string model)
    {
        var span = model.AsSpan();
        if (span.Length > 11 && span[^11] == '-' && span[^6] == '-' && span[^3] == '-'
            && IsDigits(span[^10..^6]) && IsDigits(span[^5..^3]) && IsDigits(span[^2..]))
        {
            return model[..^11];
        }

        if (span.Length > 9 && span[^9] == '-' && IsDigits(span[^8..]))
        {
            return model[..^9];
        }

        return null;
    }

    private static bool IsDigits(ReadOnlySpan<char> span) => !span.ContainsAnyExceptInRange('0', '9');

    internal static Dictionary<string, ModelPrice> LoadShipped(string path)
    {
        var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path))
        {
            return prices;
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        foreach (var model in document.RootElement.GetProperty("models").EnumerateObject())
        {
            var value = model.Value;
            prices[model.Name] = new ModelPrice
            {
                Input = value.GetProperty("input").GetDecimal(),
                CachedInput = value.TryGetProperty("cachedInput", out var cached) ? cached.GetDecimal() : null,
                Output = value.GetProperty("output").GetDecimal(),
            };
        }

        return prices;
    }
}
