using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.Parsing;
using LlmGateway.Responses;
using LlmGateway.Routing;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace LlmGateway.Caching;

/// <summary>
/// Serves repeated requests from the cache. On an exact miss it embeds the final user turn and searches the
/// tenant's vector index for the same question worded differently; on a miss it lets the request go upstream and
/// captures the answer as it streams to the client. Cache failures are logged, counted and bypassed: they never
/// fail a request.
/// </summary>
internal sealed partial class CacheMiddleware(
    RequestDelegate next,
    CachePolicies policies,
    IResponseCacheStore store,
    ISemanticIndex index,
    EmbeddingClient embeddings,
    CacheWriter writer,
    CacheMetrics metrics,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<CacheMiddleware> logger)
{
    /// <summary>The response header that says what the cache did: hit, semantic-hit, miss or bypass.</summary>
    public const string ResultHeader = "x-gateway-cache";

    /// <summary>For a semantic hit, the cosine similarity of the two final questions.</summary>
    public const string SimilarityHeader = "x-gateway-cache-similarity";

    private static readonly Func<object, Task> s_writeHeaders = WriteHeaders;

    private readonly CacheOptions _options = options.Value.Cache;

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var policy = policies.For(request.Model);
        return policy.Enabled ? CacheAsync(context, request, policy) : next(context);
    }

    private async Task CacheAsync(HttpContext context, LlmRequestFeature request, CachePolicy policy)
    {
        var feature = new CacheFeature();
        context.Features.Set(feature);
        context.Response.OnStarting(s_writeHeaders, (context.Response, feature));

        var directive = Directive.Of(context.Request);
        if (!Caches(policy, request, directive))
        {
            feature.Result = CacheResult.Bypass;
            await next(context);
            return;
        }

        var (tenant, model, variant) = KeyParts.Of(context, request, _options.Scope);
        var lookahead = context.Features.Get<CacheLookahead>() is { } started && started.IsFor(request) ? started : null;
        var key = lookahead?.Key ?? CacheKeys.Exact(tenant, request, model, variant);
        var aborted = context.RequestAborted;

        if (directive.Lookup)
        {
            CacheLookupResult found;
            try
            {
                found = lookahead is null
                    ? new(await store.GetAsync(key, aborted).AsTask().WaitAsync(_options.LookupTimeout, aborted), null)
                    : await lookahead.Lookup.WaitAsync(_options.LookupTimeout, aborted);
            }
            catch (Exception exception) when (!aborted.IsCancellationRequested)
            {
                found = new(null, exception);
            }

            if (found.Failure is { } failure)
            {
                aborted.ThrowIfCancellationRequested();
                await BypassAsync(context, feature, failure);
                return;
            }

            var exact = found.Answer;

            if (exact is not null && directive.Accepts(exact, time))
            {
                await ReplayAsync(context, feature, exact, CacheResult.Hit, similarity: null);
                return;
            }
        }

        SemanticScope scope = default;
        float[]? embedding = null;
        if (policy.SemanticEnabled && CacheKeys.TrySemantic(tenant, request, model, variant, _options.Semantic.EmbeddingModel ?? "", out var finalUserText, out scope))
        {
            try
            {
                embedding = await embeddings.EmbedAsync(finalUserText, aborted).WaitAsync(_options.Semantic.EmbeddingTimeout, aborted);
            }
            catch (Exception exception) when (!aborted.IsCancellationRequested)
            {
                // Without an embedding the exact cache still works: the request goes upstream and its answer is stored.
                metrics.Error("embed");
                LogEmbeddingUnavailable(logger, exception.GetType().Name);
            }

            if (embedding is not null && directive.Lookup)
            {
                try
                {
                    var match = await index.SearchAsync(scope, embedding, policy.SimilarityThreshold, aborted).AsTask().WaitAsync(_options.LookupTimeout, aborted);
                    if (match is { } found)
                    {
                        var answer = await store.GetAsync(found.EntryKey, aborted).AsTask().WaitAsync(_options.LookupTimeout, aborted);
                        if (answer is not null && directive.Accepts(answer, time))
                        {
                            await ReplayAsync(context, feature, answer, CacheResult.SemanticHit, found.Similarity);
                            return;
                        }

                        if (answer is null)
                        {
                            // The answer expired or was evicted before its vector: forget the vector too.
                            var stale = found.EntryKey;
                            writer.Enqueue(cancellationToken => index.RemoveAsync(scope, stale, cancellationToken));
                        }
                    }
                }
                catch (Exception exception) when (!aborted.IsCancellationRequested)
                {
                    await BypassAsync(context, feature, exception);
                    return;
                }
            }
        }

        feature.Result = CacheResult.Miss;
        var ttl = policy.Ttl;
        var capture = new CacheCapture(context, _options.MaxEntryBytes, time, answer =>
            writer.Enqueue(async cancellationToken =>
            {
                await store.SetAsync(key, answer, ttl, cancellationToken);
                if (embedding is not null)
                {
                    await index.AddAsync(scope, key, embedding, ttl, cancellationToken);
                }
            }));
        // Metering, outside this stage, normally installed the observation already; then it also completes it.
        await ResponseObservation.ObserveAsync(context, capture, next);
    }

    private Task BypassAsync(HttpContext context, CacheFeature feature, Exception exception)
    {
        metrics.Error("lookup");
        LogLookupFailed(logger, exception.GetType().Name);
        feature.Result = CacheResult.Bypass;
        return next(context);
    }

    private async Task ReplayAsync(HttpContext context, CacheFeature feature, CachedResponse answer, CacheResult result, double? similarity)
    {
        feature.Result = result;
        feature.Similarity = similarity;
        var age = time.GetUtcNow() - answer.StoredAt;
        feature.Age = age < TimeSpan.Zero ? TimeSpan.Zero : age;

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = answer.ContentType;
        if (answer.Kind == CachedResponseKind.Json)
        {
            response.ContentLength = answer.Body.Length;
            await response.Body.WriteAsync(answer.Body, context.RequestAborted);
            return;
        }

        // The stream is replayed with its usage chunk; metering, outside, hides it from a client that did not ask for usage.
        response.Headers.CacheControl = "no-cache";
        await response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    /// <summary>Whether the cache takes part in this request at all: the client allows storing, and the route's determinism rule holds.</summary>
    internal static bool Caches(CachePolicy policy, LlmRequestFeature request, Directive directive) =>
        directive.Store && !(policy.RequireZeroTemperature && request.Temperature != 0);

    /// <summary>What the cache keys of a request are made of besides its body: its tenant, the model it resolved to, its protocol variant.</summary>
    internal readonly record struct KeyParts(string Tenant, string Model, string? Variant)
    {
        public static KeyParts Of(HttpContext context, LlmRequestFeature request, CacheScope scope) =>
            new(TenantScope(context, scope), ModelName(context, request), ProtocolVariant(context, request));
    }

    /// <summary>Whose answers this request may be served: its team's, or its key's when the key has no team or the scope is per key.</summary>
    private static string TenantScope(HttpContext context, CacheScope scope)
    {
        var key = MeteringFeature.KeyOf(context);
        return scope == CacheScope.Team && !string.IsNullOrEmpty(key.Team) ? "team:" + key.Team : "key:" + key.Id;
    }

    /// <summary>The configured model the request resolved to, so that an alias and its model share answers.</summary>
    private static string ModelName(HttpContext context, LlmRequestFeature request)
    {
        var model = context.Features.Get<ModelRouteFeature>()?.Model;
        return model is null || model.IsPattern ? request.Model : model.Name;
    }

    /// <summary>Request headers that change an answer's shape: Anthropic's API version and beta features.</summary>
    private static string? ProtocolVariant(HttpContext context, LlmRequestFeature request)
    {
        if (request.Operation != LlmOperation.Messages)
        {
            return null;
        }

        var headers = context.Request.Headers;
        return string.Concat(headers["anthropic-version"].ToString(), "|", headers["anthropic-beta"].ToString());
    }

    private static Task WriteHeaders(object state)
    {
        var (response, feature) = ((HttpResponse, CacheFeature))state;
        var headers = response.Headers;
        headers[ResultHeader] = CacheFeature.Name(feature.Result);
        if (feature.Similarity is { } similarity)
        {
            headers[SimilarityHeader] = similarity.ToString("0.0000", CultureInfo.InvariantCulture);
        }

        if (feature.Age is { } age)
        {
            headers.Age = ((long)age.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// What the client allows: <c>Cache-Control: no-store</c> (or <c>x-gateway-cache: bypass</c>) neither reads nor
    /// stores, <c>no-cache</c> skips the lookup but stores the fresh answer, <c>max-age=N</c> accepts only answers
    /// stored at most N seconds ago.
    /// </summary>
    internal readonly record struct Directive(bool Lookup, bool Store, TimeSpan? MaxAge)
    {
        private static readonly Directive s_default = new(Lookup: true, Store: true, MaxAge: null);

        public static Directive Of(HttpRequest request)
        {
            var headers = request.Headers;
            if (headers.TryGetValue(ResultHeader, out var gateway) && string.Equals(gateway.ToString(), "bypass", StringComparison.OrdinalIgnoreCase))
            {
                return new Directive(Lookup: false, Store: false, MaxAge: null);
            }

            if (!headers.TryGetValue(HeaderNames.CacheControl, out var value)
                || !CacheControlHeaderValue.TryParse(value.ToString(), out var cacheControl) || cacheControl is null)
            {
                return s_default;
            }

            return new Directive(Lookup: !cacheControl.NoCache, Store: !cacheControl.NoStore, cacheControl.MaxAge);
        }

        public bool Accepts(CachedResponse answer, TimeProvider time) => MaxAge is not { } maxAge || time.GetUtcNow() - answer.StoredAt <= maxAge;
    }

    [LoggerMessage(EventId = 610, Level = LogLevel.Warning, Message = "Cache lookup failed ({ExceptionType}); the request bypasses the cache")]
    private static partial void LogLookupFailed(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 613, Level = LogLevel.Warning, Message = "No embedding for the semantic cache ({ExceptionType}); the request uses the exact cache only")]
    private static partial void LogEmbeddingUnavailable(ILogger logger, string exceptionType);
}
