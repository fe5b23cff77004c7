using System.Globalization;
using LlmGateway.Configuration;

namespace LlmGateway.Caching;

/// <summary>The start-up checks of <c>Gateway:Cache</c>.</summary>
internal static class CacheOptionsValidation
{
    private const string Section = GatewayOptions.SectionName + ":Cache";

    public static void Collect(GatewayOptions options, List<string> errors)
    {
        var cache = options.Cache;
        Positive(cache.Ttl, $"{Section}:Ttl", errors);
        Positive(cache.LookupTimeout, $"{Section}:LookupTimeout", errors);
        if (cache.MaxEntryBytes <= 0)
        {
            errors.Add(Invariant($"{Section}:MaxEntryBytes must be a positive number of bytes (got {cache.MaxEntryBytes})."));
        }

        if (cache.MaxInMemoryBytes <= 0 || cache.MaxInMemoryBytes > InMemoryResponseCacheStore.MaxBound)
        {
            errors.Add(Invariant($"{Section}:MaxInMemoryBytes must be a positive number of bytes, at most {InMemoryResponseCacheStore.MaxBound} (one array; larger caches belong in Redis) (got {cache.MaxInMemoryBytes})."));
        }

        if (!Enum.IsDefined(cache.Scope))
        {
            errors.Add($"{Section}:Scope must be one of {string.Join(", ", Enum.GetNames<CacheScope>())}.");
        }

        var semantic = cache.Semantic;
        Threshold(semantic.SimilarityThreshold, $"{Section}:Semantic:SimilarityThreshold", errors);
        Positive(semantic.EmbeddingTimeout, $"{Section}:Semantic:EmbeddingTimeout", errors);
        if (semantic.MaxEntriesPerIndex <= 0)
        {
            errors.Add(Invariant($"{Section}:Semantic:MaxEntriesPerIndex must be positive (got {semantic.MaxEntriesPerIndex})."));
        }

        if (semantic.EmbeddingCacheEntries < 0)
        {
            errors.Add(Invariant($"{Section}:Semantic:EmbeddingCacheEntries must not be negative (got {semantic.EmbeddingCacheEntries})."));
        }

        if (semantic.MaxBatchSize is < 1 or > 2048)
        {
            errors.Add(Invariant($"{Section}:Semantic:MaxBatchSize must be between 1 and 2048, the most inputs OpenAI takes in one request (got {semantic.MaxBatchSize})."));
        }

        var anySemantic = false;
        foreach (var (route, overrides) in cache.Routes)
        {
            var key = $"{Section}:Routes:{route}";
            if (!GatewayOptionsValidator.IsModelOrAlias(options, route))
            {
                errors.Add($"{key}: there is no model or alias '{route}' under {GatewayOptions.SectionName}:Models.");
            }

            if (overrides.Ttl is { } ttl)
            {
                Positive(ttl, $"{key}:Ttl", errors);
            }

            if (overrides.SimilarityThreshold is { } threshold)
            {
                Threshold(threshold, $"{key}:SimilarityThreshold", errors);
            }

            anySemantic |= (overrides.Enabled ?? cache.Enabled) && (overrides.SemanticEnabled ?? semantic.Enabled);
        }

        anySemantic |= cache.Enabled && semantic.Enabled;
        if (anySemantic)
        {
            ValidateEmbeddingModel(options, errors);
        }
    }

    private static void ValidateEmbeddingModel(GatewayOptions options, List<string> errors)
    {
        var key = $"{Section}:Semantic:EmbeddingModel";
        var name = options.Cache.Semantic.EmbeddingModel;
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add($"{key} is required when the semantic cache is on: an embeddings model under {GatewayOptions.SectionName}:Models (e.g. text-embedding-3-small).");
            return;
        }

        ModelOptions? model = null;
        foreach (var (modelName, candidate) in options.Models)
        {
            if (string.Equals(modelName, name, StringComparison.Ordinal) || candidate.Aliases.Contains(name))
            {
                model = candidate;
                break;
            }
        }

        if (model is null || name.Contains('*', StringComparison.Ordinal))
        {
            errors.Add($"{key}: '{name}' is not a model or alias under {GatewayOptions.SectionName}:Models.");
            return;
        }

        var providerName = model.Deployments.Count > 0 ? model.Deployments[0].Provider : model.Provider;
        if (options.Providers.TryGetValue(providerName, out var provider) && provider.Type == ProviderType.Anthropic)
        {
            errors.Add($"{key}: '{name}' is served by the Anthropic provider '{providerName}', which has no embeddings API; use an OpenAI-compatible provider.");
        }
    }

    private static void Positive(TimeSpan value, string key, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(Invariant($"{key} must be a positive duration (got {value})."));
        }
    }

    private static void Threshold(double value, string key, List<string> errors)
    {
        if (!(value > 0 && value <= 1))
        {
            errors.Add(Invariant($"{key} must be a cosine similarity above 0 and at most 1 (got {value})."));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
