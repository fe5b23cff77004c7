using Microsoft.AspNetCore.Http.Features;
using LlmGateway.Authentication;
using LlmGateway.Parsing;
using LlmGateway.Routing;

namespace LlmGateway.Metering;

/// <summary>
/// What the metering stages share about one request: its price, its worst case (for budget reservations and token
/// rate limits) before the call, and its <see cref="UsageRecord"/> after it.
/// </summary>
public sealed class MeteringFeature
{
    // A conservative bytes-per-token ratio for English JSON, used only where the upstream does not report usage.
    private const int BytesPerToken = 4;

    private MeteringFeature(string model, ModelPrice? price, long estimatedPromptTokens, long maxOutputTokens)
    {
        Model = model;
        Price = price;
        EstimatedPromptTokens = estimatedPromptTokens;
        MaxOutputTokens = maxOutputTokens;
        WorstCaseCostUsd = price?.CostOf(new TokenUsage(estimatedPromptTokens, maxOutputTokens, 0, 0)) ?? 0m;
    }

    public string RecordId { get; } = Guid.CreateVersion7().ToString("N");

    /// <summary>The model the client asked for.</summary>
    public string Model { get; }

    /// <summary>The model's price, or null when it is unpriced.</summary>
    public ModelPrice? Price { get; }

    /// <summary>The prompt's size in tokens, estimated from the request body.</summary>
    public long EstimatedPromptTokens { get; }

    /// <summary>The request's output cap, or its route's configured default when it sets none.</summary>
    public long MaxOutputTokens { get; }

    public long WorstCaseTokens => EstimatedPromptTokens + MaxOutputTokens;

    /// <summary>The most this request can cost: the estimated prompt and all output tokens at list price.</summary>
    public decimal WorstCaseCostUsd { get; }

    /// <summary>The request's record, set by the metering stage once the response is over.</summary>
    public UsageRecord? Record { get; internal set; }

    public static long EstimateTokens(long bytes) => (bytes + BytesPerToken - 1) / BytesPerToken;

    /// <summary>The request's metering feature, created by whichever metering stage sees the request first.</summary>
    public static MeteringFeature GetOrCreate(HttpContext context, PriceCatalog prices, MeteringPolicies policies)
    {
        if (context.Features.Get<MeteringFeature>() is { } existing)
        {
            return existing;
        }

        var request = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var route = context.Features.GetRequiredFeature<ModelRouteFeature>().Route;
        var maxOutput = request.Operation == LlmOperation.Embeddings ? 0 : request.MaxOutputTokens ?? policies.For(request.Model).DefaultMaxOutputTokens;
        var feature = new MeteringFeature(request.Model, prices.Find(request.Model, route.UpstreamModel), EstimateTokens(request.Body.Length), maxOutput);
        context.Features.Set(feature);
        return feature;
    }

    /// <summary>The virtual key the request is billed to.</summary>
    public static VirtualKey KeyOf(HttpContext context) =>
        context.Features.Get<ClientIdentityFeature>()?.Key ?? ClientIdentityFeature.LocalAnonymous;
}
