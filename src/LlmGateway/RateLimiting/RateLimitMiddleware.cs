using System.Globalization;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.Storage;
using LlmGateway.Telemetry;
using Microsoft.Extensions.Options;

namespace LlmGateway.RateLimiting;

/// <summary>
/// Enforces requests and tokens per minute per virtual key and per team, shared by all replicas. A request takes one
/// request and its worst case in tokens; once its usage is known the difference is put back. Refusals are 429
/// <c>rate_limit_exceeded</c> with OpenAI's <c>x-ratelimit-*</c> and <c>retry-after</c> headers.
/// </summary>
internal sealed partial class RateLimitMiddleware(
    RequestDelegate next,
    IRateLimitStore store,
    PriceCatalog prices,
    MeteringPolicies policies,
    MeteringWriter writer,
    IOptions<GatewayOptions> options,
    RequestTelemetry telemetry,
    ILogger<RateLimitMiddleware> logger)
{
    private readonly RateLimitOptions _limits = options.Value.RateLimits;

    public Task InvokeAsync(HttpContext context)
    {
        var key = MeteringFeature.KeyOf(context);
        var keyLimit = _limits.Keys.GetValueOrDefault(key.Id);
        var teamLimit = key.Team is null ? null : _limits.Teams.GetValueOrDefault(key.Team);
        if (keyLimit is null && teamLimit is null)
        {
            return next(context);
        }

        var metering = MeteringFeature.GetOrCreate(context, prices, policies);
        var buckets = new List<Limited>(4);
        Add(buckets, "virtual key", key.Id, "key", keyLimit, metering.WorstCaseTokens);
        Add(buckets, "team", key.Team, "team", teamLimit, metering.WorstCaseTokens);
        return buckets.Count == 0 ? next(context) : AcquireAndRunAsync(context, metering, buckets);
    }

    private async Task AcquireAndRunAsync(HttpContext context, MeteringFeature metering, List<Limited> limited)
    {
        var buckets = limited.ConvertAll(entry => entry.Bucket);
        RateLimitResult result;
        try
        {
            result = await store.TryAcquireAsync(buckets, context.RequestAborted);
        }
        catch (Exception exception) when (RedisConnection.IsUnavailable(exception))
        {
            if (policies.For(metering.Model).RedisFailureMode == StoreFailureMode.FailClosed)
            {
                LogStoreUnavailable(logger, "refusing", exception.GetType().Name);
                await MeteringErrors.Unavailable().WriteAsync(context.Response);
                return;
            }

            LogStoreUnavailable(logger, "serving without rate limits", exception.GetType().Name);
            await next(context);
            return;
        }

        var response = context.Response;
        if (!result.Allowed)
        {
            var refused = limited[result.RefusedBy];
            var bucket = refused.Bucket;
            var retryAfter = RateLimitResult.TimeUntil(result.Levels[result.RefusedBy], bucket.Amount, bucket.PerMinute);
            LogRateLimited(logger, refused.Scope, refused.Name, refused.LimitName);
            telemetry.RecordRejection(context, "rate_limit_exceeded");
            WriteHeaders(response.Headers, limited, result.Levels);
            response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await MeteringErrors.RateLimitExceeded(refused.Scope, refused.Name, refused.LimitName, bucket.PerMinute, retryAfter).WriteAsync(response);
            return;
        }

        // Set when the response starts, so they replace any rate-limit headers of the upstream's own account.
        response.OnStarting(static state =>
        {
            var (response, limited, levels) = ((HttpResponse, List<Limited>, double[]))state;
            WriteHeaders(response.Headers, limited, levels);
            return Task.CompletedTask;
        }, (response, limited, result.Levels));

        try
        {
            await next(context);
        }
        finally
        {
            // An answer from the cache used no upstream tokens: it counts as a request, not against the token limits.
            var used = metering.Record is { } record ? (record.ServedFromCache ? 0 : record.Usage.TotalTokens) : metering.WorstCaseTokens;
            var unused = metering.WorstCaseTokens - used;
            foreach (var entry in limited)
            {
                if (entry.IsTokens && unused != 0)
                {
                    writer.Enqueue(cancellationToken => store.ReturnAsync(entry.Bucket, unused, cancellationToken));
                }
            }
        }
    }

    private static void Add(List<Limited> buckets, string scope, string? name, string keyPrefix, RateLimit? limit, long worstCaseTokens)
    {
        if (limit is null || name is null)
        {
            return;
        }

        if (limit.RequestsPerMinute is { } rpm)
        {
            buckets.Add(new Limited(new RateLimitBucket($"llmgw:ratelimit:{keyPrefix}:{name}:rpm", rpm, 1), scope, name, "requests per min (RPM)", IsTokens: false));
        }

        if (limit.TokensPerMinute is { } tpm)
        {
            buckets.Add(new Limited(new RateLimitBucket($"llmgw:ratelimit:{keyPrefix}:{name}:tpm", tpm, worstCaseTokens), scope, name, "tokens per min (TPM)", IsTokens: true));
        }
    }

    /// <summary>Reports the tightest request bucket and the tightest token bucket, as OpenAI's headers describe one of each.</summary>
    private static void WriteHeaders(IHeaderDictionary headers, List<Limited> limited, double[] levels)
    {
        int requests = -1, tokens = -1;
        for (var i = 0; i < limited.Count; i++)
        {
            ref var tightest = ref limited[i].IsTokens ? ref tokens : ref requests;
            if (tightest < 0 || levels[i] / limited[i].Bucket.PerMinute < levels[tightest] / limited[tightest].Bucket.PerMinute)
            {
                tightest = i;
            }
        }

        Write(headers, "requests", limited, levels, requests);
        Write(headers, "tokens", limited, levels, tokens);
    }

    private static void Write(IHeaderDictionary headers, string kind, List<Limited> limited, double[] levels, int index)
    {
        if (index < 0)
        {
            return;
        }

        var perMinute = limited[index].Bucket.PerMinute;
        var level = levels[index];
        headers["x-ratelimit-limit-" + kind] = perMinute.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-" + kind] = Math.Max(0, (long)Math.Floor(level)).ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-" + kind] = MeteringErrors.RateLimitDuration(RateLimitResult.TimeUntil(level, perMinute, perMinute));
    }

    private sealed record Limited(RateLimitBucket Bucket, string Scope, string Name, string LimitName, bool IsTokens);

    [LoggerMessage(EventId = 530, Level = LogLevel.Information, Message = "Rate limit reached for {Scope} {Name} on {LimitName}: request refused")]
    private static partial void LogRateLimited(ILogger logger, string scope, string name, string limitName);

    [LoggerMessage(EventId = 531, Level = LogLevel.Warning, Message = "Rate limit store unavailable ({ExceptionType}): {Action} (Gateway:Metering:RedisFailureMode)")]
    private static partial void LogStoreUnavailable(ILogger logger, string action, string exceptionType);
}
