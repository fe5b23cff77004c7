using LlmGateway.Configuration;
using LlmGateway.Parsing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace LlmGateway.Caching;

/// <summary>
/// An exact-cache lookup started before the admission stages, for the cache stage to finish. <see cref="Lookup"/>
/// never faults: a failure comes back in its result, so a request refused before the cache stage leaves no
/// unobserved exception behind.
/// </summary>
internal sealed class CacheLookahead(LlmRequestFeature request, string key, Task<CacheLookupResult> lookup)
{
    public string Key { get; } = key;

    public Task<CacheLookupResult> Lookup { get; } = lookup;

    /// <summary>Whether the lookup was made for this parsed request (no stage in between replaced it).</summary>
    public bool IsFor(LlmRequestFeature current) => ReferenceEquals(request, current);
}

/// <summary>The answer found under a key (null on a miss), or why the lookup failed.</summary>
internal readonly record struct CacheLookupResult(CachedResponse? Answer, Exception? Failure);

/// <summary>
/// With answers in a shared store (Redis), starts a request's exact-cache lookup as soon as its route is known, so
/// that the round trip overlaps those of the rate-limit and budget stages instead of following them. The cache stage
/// takes the result; a request those stages refuse has made one read for nothing. With the in-process store a lookup
/// takes no time, and this stage does nothing.
/// </summary>
internal sealed class CacheLookaheadMiddleware(RequestDelegate next, CachePolicies policies, IResponseCacheStore store, IOptions<GatewayOptions> options)
{
    private readonly bool _storeIsShared = store is not InMemoryResponseCacheStore;
    private readonly CacheScope _scope = options.Value.Cache.Scope;

    public Task InvokeAsync(HttpContext context)
    {
        if (_storeIsShared)
        {
            Start(context);
        }

        return next(context);
    }

    private void Start(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var policy = policies.For(request.Model);
        if (!policy.Enabled)
        {
            return;
        }

        var directive = CacheMiddleware.Directive.Of(context.Request);
        if (!directive.Lookup || !CacheMiddleware.Caches(policy, request, directive))
        {
            return;
        }

        var (tenant, model, variant) = CacheMiddleware.KeyParts.Of(context, request, _scope);
        var key = CacheKeys.Exact(tenant, request, model, variant);
        context.Features.Set(new CacheLookahead(request, key, LookUpAsync(key, context.RequestAborted)));
    }

    private async Task<CacheLookupResult> LookUpAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return new CacheLookupResult(await store.GetAsync(key, cancellationToken), null);
        }
        catch (Exception exception)
        {
            return new CacheLookupResult(null, exception);
        }
    }
}
