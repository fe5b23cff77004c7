using BenchmarkDotNet.Attributes;
using LlmGateway.Metering;

namespace LlmGateway.Benchmarks;

/// <summary>
/// What metering does to price one answer, with the shipped price list: find the model's price (the public name
/// first, then the upstream name, a dated snapshot falling back to its base model; resolved once and then cached), the
/// exact <see cref="decimal"/> cost of the usage, and its conversion to picodollars for the spend and budget counters.
/// <c>Header</c> adds what a JSON answer also pays: the cost formatted for <c>x-gateway-cost-usd</c>.
/// </summary>
[MemoryDiagnoser]
public class CostBenchmarks
{
    private static readonly TokenUsage PlainUsage = new(PromptTokens: 412, CompletionTokens: 100, CachedPromptTokens: 0, ReasoningTokens: 0);

    /// <summary>A reasoning model's answer to a long conversation whose prefix the provider had cached.</summary>
    private static readonly TokenUsage DetailedUsage = new(PromptTokens: 18_304, CompletionTokens: 2_716, CachedPromptTokens: 17_920, ReasoningTokens: 2_240);

    private PriceCatalog _prices = null!;

    [GlobalSetup]
    public void Setup()
    {
        _prices = new PriceCatalog(
            PriceCatalog.LoadShipped(Path.Combine(AppContext.BaseDirectory, PriceCatalog.ShippedPricesFile)),
            new Dictionary<string, ModelPrice>());
        if (_prices.Find("gpt-4o-mini", "gpt-4o-mini") is null || _prices.Find("reasoning", "o4-mini-2025-04-16") is null)
        {
            throw new InvalidOperationException("the shipped price list must be next to the benchmark");
        }
    }

    /// <summary>A request for a model by its own name, no cached or reasoning tokens.</summary>
    [Benchmark(Baseline = true)]
    public long Plain() => Money.ToPicodollars(_prices.Find("gpt-4o-mini", "gpt-4o-mini")!.CostOf(PlainUsage));

    /// <summary>A route alias served by a dated snapshot, with cached prompt tokens (priced apart) and reasoning tokens.</summary>
    [Benchmark]
    public long CachedAndReasoning() => Money.ToPicodollars(_prices.Find("reasoning", "o4-mini-2025-04-16")!.CostOf(DetailedUsage));

    [Benchmark]
    public string Header() => MeteringHeaders.FormatUsd(_prices.Find("reasoning", "o4-mini-2025-04-16")!.CostOf(DetailedUsage));
}
