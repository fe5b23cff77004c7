using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using LlmGateway.Authentication;
using LlmGateway.Errors;
using LlmGateway.Metering;
using LlmGateway.Parsing;
using LlmGateway.Routing;
using Yarp.ReverseProxy.Model;

namespace LlmGateway.Telemetry;

/// <summary>
/// What every metered request leaves behind for operators: OpenTelemetry GenAI metrics, GenAI attributes on the
/// request's server span, and one structured log line. Names follow the OpenTelemetry GenAI semantic conventions;
/// the gateway's own attributes use the <c>llm_gateway.</c> prefix. Never carries credentials, prompts or completions.
/// </summary>
public sealed class RequestTelemetry
{
    private static readonly double[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    // The boundaries the GenAI semantic conventions advise for gen_ai.server.time_to_first_token.
    private static readonly double[] TimeToFirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _operationDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Counter<long> _requests;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _rejections;
    private readonly RequestLog _log;

    public RequestTelemetry(GatewayTelemetry telemetry, RequestLog log)
    {
        var meter = telemetry.Meter;
        _tokenUsage = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens used per request, by token type (input, output).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = Array.ConvertAll(TokenBuckets, b => (long)b) });
        _operationDuration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "Duration of GenAI operations through the gateway.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _timeToFirstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s",
            "Successful streamed requests: time from the gateway starting the call (after parsing, input guards and routing) to the first event with generated content.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TimeToFirstTokenBuckets });
        _requests = meter.CreateCounter<long>("llmgateway.requests", "{request}", "Metered requests by model, provider, team, key id, status and cache result.");
        _cost = meter.CreateCounter<double>("llmgateway.cost", "USD", "Spend at list price by model, provider, team and key id.");
        _rejections = meter.CreateCounter<long>("llmgateway.rejections", "{request}",
            "Requests refused before reaching a provider, by reason (budget_exceeded, rate_limit_exceeded), team and key id.");
        _log = log;
    }

    public void Record(UsageRecord record, Activity? serverSpan)
    {
        var operation = GenAiOperationName(record.Operation);
        var failed = record.StatusCode >= 400;
        var status = record.StatusCode.ToString(CultureInfo.InvariantCulture);

        if (_tokenUsage.Enabled)
        {
            var tags = new TagList
            {
                { "gen_ai.operation.name", operation },
                { "gen_ai.provider.name", record.Provider },
                { "gen_ai.request.model", record.Model },
                { "gen_ai.response.model", record.UpstreamModel },
            };
            tags.Add("gen_ai.token.type", "input");
            _tokenUsage.Record(record.Usage.PromptTokens, tags);
            tags[^1] = new("gen_ai.token.type", "output");
            _tokenUsage.Record(record.Usage.CompletionTokens, tags);
        }

        if (_operationDuration.Enabled)
        {
            var tags = new TagList
            {
                { "gen_ai.operation.name", operation },
                { "gen_ai.provider.name", record.Provider },
                { "gen_ai.request.model", record.Model },
                { "llm_gateway.cache.result", record.CacheResult },
            };
            if (failed)
            {
                tags.Add("error.type", status);
            }

            _operationDuration.Record(record.Latency.TotalSeconds, tags);
        }

        if (record.TimeToFirstToken is { } timeToFirstToken && !failed && _timeToFirstToken.Enabled)
        {
            _timeToFirstToken.Record(timeToFirstToken.TotalSeconds, new TagList
            {
                { "gen_ai.operation.name", operation },
                { "gen_ai.provider.name", record.Provider },
                { "gen_ai.request.model", record.Model },
                { "gen_ai.response.model", record.UpstreamModel },
                { "llm_gateway.cache.result", record.CacheResult },
            });
        }

        if (_requests.Enabled)
        {
            _requests.Add(1, new TagList
            {
                { "gen_ai.request.model", record.Model },
                { "gen_ai.provider.name", record.Provider },
                { "llm_gateway.team", record.Team ?? "" },
                { "llm_gateway.key_id", record.KeyId },
                { "http.response.status_code", status },
                { "llm_gateway.cache.result", record.CacheResult },
            });
        }

        if (_cost.Enabled && record.Priced && record.CostUsd > 0)
        {
            _cost.Add((double)record.CostUsd, new TagList
            {
                { "gen_ai.request.model", record.Model },
                { "gen_ai.provider.name", record.Provider },
                { "llm_gateway.team", record.Team ?? "" },
                { "llm_gateway.key_id", record.KeyId },
            });
        }

        if (serverSpan is { IsAllDataRequested: true })
        {
            serverSpan.SetTag("gen_ai.operation.name", operation);
            serverSpan.SetTag("gen_ai.provider.name", record.Provider);
            serverSpan.SetTag("gen_ai.request.model", record.Model);
            serverSpan.SetTag("gen_ai.response.model", record.UpstreamModel);
            serverSpan.SetTag("gen_ai.response.id", record.ResponseId);
            serverSpan.SetTag("gen_ai.response.finish_reasons", record.FinishReasons);
            serverSpan.SetTag("gen_ai.usage.input_tokens", record.Usage.PromptTokens);
            serverSpan.SetTag("gen_ai.usage.output_tokens", record.Usage.CompletionTokens);
            serverSpan.SetTag("llm_gateway.key_id", record.KeyId);
            serverSpan.SetTag("llm_gateway.team", record.Team);
            serverSpan.SetTag("llm_gateway.cost_usd", (double)record.CostUsd);
            serverSpan.SetTag("llm_gateway.cache.result", record.CacheResult);
            serverSpan.SetTag("llm_gateway.usage.estimated", record.Estimated);
            if (record.TimeToFirstToken is { } firstChunk)
            {
                serverSpan.SetTag("gen_ai.response.time_to_first_chunk", firstChunk.TotalSeconds);
            }
            if (failed)
            {
                serverSpan.SetTag("error.type", status);
            }
        }

        _log.Metered(record);
    }

    /// <summary>Counts a request refused by a budget or a rate limit; such requests are never metered.</summary>
    public void RecordRejection(HttpContext context, string reason)
    {
        if (_rejections.Enabled)
        {
            var key = MeteringFeature.KeyOf(context);
            _rejections.Add(1, new TagList
            {
                { "llm_gateway.rejection.reason", reason },
                { "llm_gateway.team", key.Team ?? "" },
                { "llm_gateway.key_id", key.Id },
                { "gen_ai.request.model", context.Features.Get<LlmRequestFeature>()?.Model ?? "" },
            });
        }
    }

    /// <summary>
    /// Logs a request to the LLM API that ended in an error before metering recorded it (a refused key, a bad body, an
    /// unknown model, a guardrail block, a rate limit or budget): the same fields as a metered request's line, with
    /// nothing consumed, and the error's code. Metered requests and other endpoints are left alone.
    /// </summary>
    public void RecordRefusal(HttpContext context, TimeSpan latency)
    {
        if (!_log.IsEnabled || context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>() is null)
        {
            return;
        }

        var metering = context.Features.Get<MeteringFeature>();
        if (metering?.Record is not null)
        {
            return;
        }

        var request = context.Features.Get<LlmRequestFeature>();
        var route = context.Features.Get<ModelRouteFeature>()?.Route;
        var key = context.Features.Get<ClientIdentityFeature>()?.Key;
        _log.Refused(metering?.RecordId, request is null ? null : MeteringMiddleware.ApiOperationName(request.Operation), request?.Model,
            route?.Provider.Name, route?.Deployment.Name, key?.Id, key?.Team, request?.User ?? key?.User, context.Response.StatusCode,
            context.Features.Get<GatewayError>()?.Code, latency.TotalMilliseconds, context.RequestAborted.IsCancellationRequested);
    }

    /// <summary>The semantic conventions' operation names for the API operations the gateway serves.</summary>
    private static string GenAiOperationName(string apiOperation) => apiOperation switch
    {
        "completions" => "text_completion",
        "embeddings" => "embeddings",
        _ => "chat",
    };
}
