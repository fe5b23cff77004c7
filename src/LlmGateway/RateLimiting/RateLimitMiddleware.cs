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
    private readonly Dictionary<string, LimitedBucket[]> _keyBuckets = LimitedBucket.Index(options.Value.RateLimits.Keys, "virtual key", "key");
    private readonly Dictionary<string, LimitedBucket[]> _teamBuckets = LimitedBucket.Index(options.Value.RateLimits.Teams, "team", "team");

    public Task InvokeAsync(HttpContext context)
    {
        var key = MeteringFeature.KeyOf(context);
        var keyBuckets = _keyBuckets.GetValueOrDefault(key.Id, []);
        var teamBuckets = key.Team is null ? [] : _teamBuckets.GetValueOrDefault(key.Team, []);
        if (keyBuckets.Length == 0 && teamBuckets.Length == 0)
        {
            return next(context);
        }

        // The key's buckets first, then the team's: a refusal names the first bucket that is short.
        LimitedBucket[] limited = teamBuckets.Length == 0 ? keyBuckets : keyBuckets.Length == 0 ? teamBuckets : [.. keyBuckets, .. teamBuckets];
        return AcquireAndRunAsync(context, MeteringFeature.GetOrCreate(context, prices, policies), limited);
    }

    private async Task AcquireAndRunAsync(HttpContext context, MeteringFeature metering, LimitedBucket[] limited)
    {
        var acquisition = new Acquisition(context.Response, limited, metering.WorstCaseTokens);
        RateLimitResult result;
        try
        {
            result = await store.TryAcquireAsync(acquisition.Buckets, context.RequestAborted);
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

        acquisition.Levels = result.Levels;
        var response = context.Response;
        if (!result.Allowed)
        {
            var refused = limited[result.RefusedBy];
            var bucket = acquisition.Buckets[result.RefusedBy];
            var retryAfter = RateLimitResult.TimeUntil(result.Levels[result.RefusedBy], bucket.Amount, bucket.PerMinute);
            LogRateLimited(logger, refused.Scope, refused.Name, refused.LimitName);
            telemetry.RecordRejection(context, "rate_limit_exceeded");
            acquisition.WriteHeaders();
            response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await MeteringErrors.RateLimitExceeded(refused.Scope, refused.Name, refused.LimitName, bucket.PerMinute, retryAfter).WriteAsync(response);
            return;
        }

        // Set when the response starts, so they replace any rate-limit headers of the upstream's own account.
        response.OnStarting(static state =>
        {
            ((Acquisition)state).WriteHeaders();
            return Task.CompletedTask;
        }, acquisition);

        try
        {
            await next(context);
        }
        finally
        {
            // An answer from the cache used no upstream tokens: it counts as a request, not against the token limits.
            var used = metering.Record is { } record ? (record.ServedFromCache ? 0 : record.Usage.TotalTokens) : metering.WorstCaseTokens;
            var unused = metering.WorstCaseTokens - used;
            for (var i = 0; i < limited.Length; i++)
            {
                if (limited[i].IsTokens && unused != 0)
                {
                    ReturnLater(acquisition.Buckets[i], unused);
                }
            }
        }
    }

    // One write per bucket, each retried on its own: a give-back is not idempotent, so one must not repeat another.
    private void ReturnLater(RateLimitBucket bucket, long amount) =>
        writer.Enqueue(cancellationToken => store.ReturnAsync(bucket, amount, cancellationToken));

    /// <summary>One request's buckets and, once acquired, their levels: what its <c>x-ratelimit-*</c> headers report.</summary>
    private sealed class Acquisition
    {
        private readonly HttpResponse _response;
        private readonly LimitedBucket[] _limited;

        public Acquisition(HttpResponse response, LimitedBucket[] limited, long worstCaseTokens)
        {
            _response = response;
            _limited = limited;
            Buckets = new RateLimitBucket[limited.Length];
            for (var i = 0; i < limited.Length; i++)
            {
                Buckets[i] = limited[i].Take(worstCaseTokens);
            }
        }

        public RateLimitBucket[] Buckets { get; }

        public double[] Levels { get; set; } = [];

        /// <summary>Reports the tightest request bucket and the tightest token bucket, as OpenAI's headers describe one of each.</summary>
        public void WriteHeaders()
        {
            int requests = -1, tokens = -1;
            for (var i = 0; i < _limited.Length; i++)
            {
                ref var tightest = ref _limited[i].IsTokens ? ref tokens : ref requests;
                if (tightest < 0 || Levels[i] / _limited[i].PerMinute < Levels[tightest] / _limited[tightest].PerMinute)
                {
                    tightest = i;
                }
            }

            Write(RateLimitHeaderNames.Requests, requests);
            Write(RateLimitHeaderNames.Tokens, tokens);
        }

        private void Write(RateLimitHeaderNames names, int index)
        {
            if (index < 0)
            {
                return;
            }

            var limited = _limited[index];
            var level = Levels[index];
            var headers = _response.Headers;
            headers[names.Limit] = limited.PerMinuteText;
            headers[names.Remaining] = Math.Max(0, (long)Math.Floor(level)).ToString(CultureInfo.InvariantCulture);
            headers[names.Reset] = MeteringErrors.RateLimitDuration(RateLimitResult.TimeUntil(level, limited.PerMinute, limited.PerMinute));
        }
    }

    private sealed record RateLimitHeaderNames(string Limit, string Remaining, string Reset)
    {
        public static readonly RateLimitHeaderNames Requests = new("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests");

        public static readonly RateLimitHeaderNames Tokens = new("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens");
    }

    /// <summary>
    /// A bucket a virtual key or team is limited by, with everything that stays the same from request to request
    /// (its Redis key, its names, its limit as a header value) made once at start-up: limits are not reloaded.
    /// </summary>
    private sealed class LimitedBucket
    {
        private LimitedBucket(string scope, string name, string keyPrefix, long perMinute, bool isTokens)
        {
            Scope = scope;
            Name = name;
            IsTokens = isTokens;
            PerMinute = perMinute;
            PerMinuteText = perMinute.ToString(CultureInfo.InvariantCulture);
            Key = $"llmgw:ratelimit:{keyPrefix}:{name}:{(isTokens ? "tpm" : "rpm")}";
            LimitName = isTokens ? "tokens per min (TPM)" : "requests per min (RPM)";
        }

        /// <summary>"virtual key" or "team", as refusals and logs name it.</summary>
        public string Scope { get; }

        public string Name { get; }

        public string LimitName { get; }

        public string Key { get; }

        public long PerMinute { get; }

        public string PerMinuteText { get; }

        public bool IsTokens { get; }

        /// <summary>The bucket as this request takes from it: one request, or its worst case in tokens.</summary>
        public RateLimitBucket Take(long worstCaseTokens) => new(Key, PerMinute, IsTokens ? worstCaseTokens : 1);

        /// <summary>The buckets of each key or team, requests before tokens; a limit left out has none.</summary>
        public static Dictionary<string, LimitedBucket[]> Index(Dictionary<string, RateLimit> limits, string scope, string keyPrefix)
        {
            var index = new Dictionary<string, LimitedBucket[]>(limits.Comparer);
            foreach (var (name, limit) in limits)
            {
                var buckets = new List<LimitedBucket>(2);
                if (limit.RequestsPerMinute is { } rpm)
                {
                    buckets.Add(new LimitedBucket(scope, name, keyPrefix, rpm, isTokens: false));
                }

                if (limit.TokensPerMinute is { } tpm)
                {
                    buckets.Add(new LimitedBucket(scope, name, keyPrefix, tpm, isTokens: true));
                }

                index[name] = [.. buckets];
            }

            return index;
        }
    }

    [LoggerMessage(EventId = 530, Level = LogLevel.Information, Message = "Rate limit reached for {Scope} {Name} on {LimitName}: request refused")]
    private static partial void LogRateLimited(ILogger logger, string scope, string name, string limitName);

    [LoggerMessage(EventId = 531, Level = LogLevel.Warning, Message = "Rate limit store unavailable ({ExceptionType}): {Action} (Gateway:Metering:RedisFailureMode)")]
    private static partial void LogStoreUnavailable(ILogger logger, string action, string exceptionType);
}
