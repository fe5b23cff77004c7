using System.Diagnostics;
using LlmGateway.Caching;
using LlmGateway.Parsing;
using LlmGateway.Responses;
using LlmGateway.Routing;

namespace LlmGateway.Metering;

/// <summary>
/// Reads usage from the response as it passes: the usage chunk of a stream (dropped when the client did not ask for
/// it) or the <c>usage</c> of a JSON body. Counts streamed deltas, one token each, for the estimate needed when a
/// stream ends without usage. When the request is traced, also reads the response's id and finish reasons.
/// </summary>
internal sealed class UsageObserver(HttpContext context, PriceCatalog prices, string model, bool hideUsageChunk, bool readResponseMetadata) : IResponseObserver
{
    private ResponseMetadata _responseMetadata;

    public bool HasUsage { get; private set; }

    public TokenUsage Usage { get; private set; }

    public long StreamedDeltas { get; private set; }

    public long BodyBytes { get; private set; }

    public bool SawBody { get; private set; }

    /// <summary>The <see cref="Stopwatch"/> timestamp of the first event with generated content; 0 before it.</summary>
    public long FirstContentTimestamp { get; private set; }

    /// <summary>The id of the response the client received; null when it had none.</summary>
    public string? ResponseId => _responseMetadata.Id;

    /// <summary>Why the model stopped, one reason per choice, as the client received them; null when none was seen.</summary>
    public string[]? ToFinishReasons() => _responseMetadata.ToFinishReasons();

    public bool OnEvent(in ServerSentEvent serverSentEvent)
    {
        var data = serverSentEvent.Data;
        // Before usage: Anthropic's message_start and message_delta carry usage and the id or the stop reason.
        if (readResponseMetadata)
        {
            _responseMetadata.ReadEvent(data);
        }

        if (UsageReader.TryRead(data, out var usage))
        {
            // OpenAI streams carry usage once. Anthropic's carry it in parts (input in message_start, cumulative
            // output in message_delta): counts only grow, so the largest seen of each is the total.
            Usage = HasUsage ? Larger(Usage, usage) : usage;
            HasUsage = true;
            return !(hideUsageChunk && data.IndexOf("\"choices\":[]"u8) >= 0);
        }

        if (HasNonEmptyDelta(data))
        {
            if (StreamedDeltas++ == 0)
            {
                FirstContentTimestamp = Stopwatch.GetTimestamp();
            }
        }

        return true;
    }

    public void OnBody(ReadOnlySpan<byte> body)
    {
        SawBody = true;
        BodyBytes = body.Length;
        if (readResponseMetadata && context.Features.Get<LlmRequestFeature>()?.Operation is not LlmOperation.Embeddings)
        {
            // Embeddings have neither id nor finish reason, and their bodies are long arrays of numbers.
            _responseMetadata.ReadBody(body);
        }

        if (UsageReader.TryRead(body, out var usage))
        {
            HasUsage = true;
            Usage = usage;
            var upstreamModel = context.Features.Get<ModelRouteFeature>()?.Route.UpstreamModel ?? model;
            var fromCache = context.Features.Get<CacheFeature>() is { IsHit: true };
            MeteringHeaders.Write(context.Response, usage, prices.Find(model, upstreamModel), fromCache);
        }
    }

    private static TokenUsage Larger(TokenUsage a, TokenUsage b) => new(
        Math.Max(a.PromptTokens, b.PromptTokens),
        Math.Max(a.CompletionTokens, b.CompletionTokens),
        Math.Max(a.CachedPromptTokens, b.CachedPromptTokens),
        Math.Max(a.ReasoningTokens, b.ReasoningTokens));

    /// <summary>A chunk that carries generated text, arguments or a Responses API delta (not an empty role-only chunk).</summary>
    private static bool HasNonEmptyDelta(ReadOnlySpan<byte> data) =>
        HasNonEmptyString(data, "\"content\":\""u8) || HasNonEmptyString(data, "\"arguments\":\""u8) || HasNonEmptyString(data, "\"delta\":\""u8)
        || HasNonEmptyString(data, "\"text\":\""u8) || HasNonEmptyString(data, "\"partial_json\":\""u8);

    private static bool HasNonEmptyString(ReadOnlySpan<byte> data, ReadOnlySpan<byte> prefix)
    {
        var index = data.IndexOf(prefix);
        return index >= 0 && index + prefix.Length < data.Length && data[index + prefix.Length] != (byte)'"';
    }
}
