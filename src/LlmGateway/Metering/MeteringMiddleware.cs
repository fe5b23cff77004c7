using Microsoft.AspNetCore.Http.Features;
using System.Diagnostics;
using LlmGateway.Caching;
using LlmGateway.Configuration;
using LlmGateway.Errors;
using LlmGateway.Parsing;
using LlmGateway.Responses;
using LlmGateway.Routing;
using LlmGateway.Telemetry;
using Microsoft.Extensions.Options;

namespace LlmGateway.Metering;

/// <summary>
/// Meters every proxied request: asks OpenAI-shaped streams for usage, reads usage from the response on its way to
/// the client, prices it, and writes one <see cref="UsageRecord"/> when the response is over, also when the client
/// went away or the upstream failed.
/// </summary>
internal sealed partial class MeteringMiddleware(
    RequestDelegate next,
    PriceCatalog prices,
    MeteringPolicies policies,
    MeteringWriter writer,
    ISpendStore spend,
    MeteringMetrics metrics,
    RequestTelemetry requestTelemetry,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<MeteringMiddleware> logger)
{
    private const string UserHeader = "x-gateway-user";

    private readonly MeteringOptions _options = options.Value.Metering;

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var metering = MeteringFeature.GetOrCreate(context, prices, policies);
        if (metering.Price is null && policies.For(request.Model).RefuseUnpricedModels)
        {
            LogRefusedUnpriced(logger, request.Model);
            return MeteringErrors.ModelNotPriced(request.Model).WriteAsync(context.Response);
        }

        // A client that did not ask for usage never sees a usage chunk, whoever asked for it: metering here, or the
        // client whose answer a cache hit replays.
        var hideUsageChunk = request.Stream && !request.IncludeUsage
            && request.Operation is LlmOperation.ChatCompletions or LlmOperation.Completions;
        if (hideUsageChunk && _options.RequestStreamUsage)
        {
            context.Features.GetRequiredFeature<UpstreamBodyFeature>().IncludeUsage = true;
            UpstreamBody.Apply(context);
        }

        // The response's id and finish reasons only go on the request's span: not read when nobody records it.
        var traced = context.Features.Get<IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true };
        var observer = new UsageObserver(context, prices, request.Model, hideUsageChunk, traced);
        var installed = ResponseObservation.Observe(context, observer);
        return MeterAsync(context, request, metering, observer, installed);
    }

    private async Task MeterAsync(HttpContext context, LlmRequestFeature request, MeteringFeature metering, UsageObserver observer, bool installed)
    {
        var started = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await next(context);
            failed = false;
        }
        finally
        {
            try
            {
                if (installed)
                {
                    await ResponseObservation.CompleteAsync(context, deliver: !failed);
                }
            }
            finally
            {
                Record(context, request, metering, observer, failed, started);
            }
        }
    }

    private void Record(HttpContext context, LlmRequestFeature request, MeteringFeature metering, UsageObserver observer, bool failed, long started)
    {
        var latency = Stopwatch.GetElapsedTime(started);
        // Attempts beneath may have moved the request to another deployment: attribute and price it by the one that answered.
        var served = context.Features.GetRequiredFeature<ModelRouteFeature>().Route;
        var price = prices.Find(request.Model, served.UpstreamModel);
        var response = context.Response;
        var status = failed && !response.HasStarted ? StatusCodes.Status500InternalServerError : response.StatusCode;
        var usage = observer.Usage;
        var estimated = false;
        if (!observer.HasUsage)
        {
            usage = default;
            var answered = status is >= 200 and < 300 && (observer.SawBody || observer.StreamedDeltas > 0);
            if (answered)
            {
                var completion = request.Stream ? observer.StreamedDeltas : MeteringFeature.EstimateTokens(observer.BodyBytes);
                usage = new TokenUsage(metering.EstimatedPromptTokens, completion, 0, 0);
                estimated = true;
            }
        }

        var key = MeteringFeature.KeyOf(context);
        var cache = context.Features.Get<CacheFeature>();
        var fromCache = cache is { IsHit: true };
        var listCost = price?.CostOf(usage) ?? 0m;
        var record = new UsageRecord
        {
            Id = metering.RecordId,
            Timestamp = time.GetUtcNow(),
            KeyId = key.Id,
            Team = key.Team,
            User = request.User ?? HeaderValue(context, UserHeader) ?? key.User,
            Project = key.Project,
            Model = request.Model,
            UpstreamModel = served.UpstreamModel,
            Provider = served.Provider.Name,
            Deployment = served.Deployment.Name,
            Operation = ApiOperationName(request.Operation),
            Streamed = request.Stream,
            StatusCode = status,
            Latency = latency,
            TimeToFirstToken = observer.FirstContentTimestamp != 0 ? Stopwatch.GetElapsedTime(started, observer.FirstContentTimestamp) : null,
            Usage = usage,
            ResponseId = observer.ResponseId,
            FinishReasons = observer.ToFinishReasons(),
            CacheResult = CacheFeature.Name(cache?.Result ?? CacheResult.None),
            CostUsd = fromCache ? 0m : listCost,
            SavedCostUsd = fromCache ? listCost : 0m,
            Priced = price is not null,
            Estimated = estimated,
            ClientDisconnected = context.RequestAborted.IsCancellationRequested,
        };
        metering.Record = record;
        metrics.Record(record);
        requestTelemetry.Record(record, context.Features.Get<IHttpActivityFeature>()?.Activity);
        if (!record.Priced)
        {
            LogUnpriced(logger, record.Model, record.UpstreamModel, record.KeyId, usage.PromptTokens, usage.CompletionTokens);
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogMetered(logger, record.Id, record.KeyId, record.Team, record.Model, record.Provider, record.StatusCode,
                usage.PromptTokens, usage.CompletionTokens, usage.CachedPromptTokens, usage.ReasoningTokens, record.CostUsd, record.Estimated, record.ClientDisconnected);
        }

        writer.Enqueue(cancellationToken => spend.AddAsync(record, cancellationToken));
    }

    private static string? HeaderValue(HttpContext context, string name) =>
        context.Request.Headers.TryGetValue(name, out var value) && value.Count == 1 && !string.IsNullOrEmpty(value[0]) ? value[0] : null;

    internal static string ApiOperationName(LlmOperation operation) => operation switch
    {
        LlmOperation.ChatCompletions => "chat.completions",
        LlmOperation.Completions => "completions",
        LlmOperation.Embeddings => "embeddings",
        LlmOperation.Messages => "messages",
        _ => "responses",
    };

    [LoggerMessage(EventId = 500, Level = LogLevel.Debug,
        Message = "Metered {RecordId}: key {KeyId} team {Team} model {Model} provider {Provider} status {StatusCode}: {PromptTokens} prompt ({CachedPromptTokens} cached), {CompletionTokens} completion ({ReasoningTokens} reasoning), {CostUsd} USD, estimated {Estimated}, client disconnected {ClientDisconnected}")]
    private static partial void LogMetered(ILogger logger, string recordId, string keyId, string? team, string model, string provider, int statusCode,
        long promptTokens, long completionTokens, long cachedPromptTokens, long reasoningTokens, decimal costUsd, bool estimated, bool clientDisconnected);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning,
        Message = "Model {Model} (upstream {UpstreamModel}) has no price: request by key {KeyId} metered as unpriced ({PromptTokens} prompt, {CompletionTokens} completion tokens). Add it under Gateway:Metering:Prices.")]
    private static partial void LogUnpriced(ILogger logger, string model, string upstreamModel, string keyId, long promptTokens, long completionTokens);

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "Refused a request for unpriced model {Model} (RefuseUnpricedModels)")]
    private static partial void LogRefusedUnpriced(ILogger logger, string model);
}
