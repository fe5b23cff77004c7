using System.Buffers;
using System.Text.Json;
using LlmGateway.Errors;
using LlmGateway.Guardrails.Detection;
using LlmGateway.Guardrails.Streaming;
using LlmGateway.Parsing;
using LlmGateway.Responses;
using LlmGateway.Routing;
using Microsoft.AspNetCore.Http.Features;
using static LlmGateway.Guardrails.GuardrailTelemetry;

namespace LlmGateway.Guardrails;

/// <summary>
/// Runs the policy of the requested model: input guards on the parsed request before it is routed (a block never
/// reaches a provider; redaction rewrites the body the provider gets), the watcher model last, and output guards on
/// non-streamed answers. For streamed chat answers it sets a <see cref="StreamingGuardrailFeature"/> that the response
/// observer applies to every chunk.
/// </summary>
internal sealed class GuardrailsMiddleware(RequestDelegate next, GuardrailPolicies policies, GuardrailTelemetry telemetry, WatcherClient watcher)
{
    /// <summary>Names the guard that filtered a non-streamed answer; the body never says what matched.</summary>
    public const string GuardHeader = "x-llmgateway-guardrail";

    public Task InvokeAsync(HttpContext context)
    {
        if (policies.IsEmpty)
        {
            return next(context);
        }

        var request = context.Features.GetRequiredFeature<LlmRequestFeature>();
        var policy = policies.For(request.Model);
        return policy is null ? next(context) : GuardAsync(context, request, policy);
    }

    private async Task GuardAsync(HttpContext context, LlmRequestFeature request, GuardrailPolicy policy)
    {
        var texts = new List<string>();
        RequestText.Collect(request.Operation, request.Root, texts);
        var table = policy.ReversibleMasking ? new MaskingTable() : null;
        var verdict = GuardInput(request, policy, texts, table);
        if (verdict.BlockedBy is { } blocker)
        {
            await Blocked(blocker).WriteAsync(context.Response);
            return;
        }

        if (verdict.Replacements is { } replacements)
        {
            UseRedactedRequest(context, request, RequestText.Rewrite(request.Operation, request.Root, replacements));
        }

        foreach (var guard in policy.Input)
        {
            if (guard is WatcherGuard watcherGuard && !await PassesWatcherAsync(context, policy, watcherGuard, texts, verdict.Replacements))
            {
                await Blocked(watcherGuard.Name).WriteAsync(context.Response);
                return;
            }
        }

        var hasOutputWork = policy.Output.Length > 0 || table is { Count: > 0 };
        if (request.Stream && hasOutputWork && request.Operation == LlmOperation.ChatCompletions)
        {
            var guardrail = new StreamingChatGuardrail(() => CreateStreamingGuard(policy, table));
            context.Features.Set(new StreamingGuardrailFeature(guardrail));
            await GuardStreamAsync(context, guardrail);
            return;
        }

        if (request.Stream || !hasOutputWork)
        {
            await next(context);
            return;
        }

        var schema = JsonSchemaOf(request);

        await GuardOutputAsync(context, request, policy, table, schema);
    }

    /// <summary>Runs the rest of the pipeline with the stream's chunks passing through the output guards.</summary>
    private Task GuardStreamAsync(HttpContext context, StreamingChatGuardrail guardrail) =>
        ResponseObservation.ObserveAsync(context, new StreamingGuardrailObserver(guardrail), next);

    /// <summary>
    /// Replaces the parsed request by the redacted one, so that every later stage (routing's model rename, metering,
    /// each resilience attempt) builds its upstream body from redacted text instead of the client's original.
    /// </summary>
    private static void UseRedactedRequest(HttpContext context, LlmRequestFeature original, ReadOnlyMemory<byte> redacted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(redacted.Length);
        redacted.Span.CopyTo(buffer);
        var feature = LlmRequestParser.Parse(original.Operation, buffer, redacted.Length, out _)
            ?? throw new InvalidOperationException("The redacted request body did not parse; redaction must keep the request valid.");
        context.Response.RegisterForDispose(feature);
        context.Features.Set(feature);
        context.Features.Set(new UpstreamBodyFeature(feature));
        UpstreamBody.Apply(context);
    }

    private StreamingTextGuard CreateStreamingGuard(GuardrailPolicy policy, MaskingTable? table)
    {
        var guards = new List<TextGuard>();
        foreach (var guard in policy.Output)
        {
            if (guard is TextGuard textGuard)
            {
                guards.Add(textGuard);
            }
        }

        return new StreamingTextGuard([.. guards], table,
            (guard, matches) => telemetry.Record(policy.Name, guard.Name, guard.Type, Actions.Of(guard.Action), Stages.Output, matches));
    }

    private readonly record struct InputVerdict(string? BlockedBy, string?[]? Replacements);

    private InputVerdict GuardInput(LlmRequestFeature request, GuardrailPolicy policy, List<string> texts, MaskingTable? table)
    {
        List<TextMatch>?[]? redactions = null;
        var found = new List<TextMatch>();
        foreach (var guard in policy.Input)
        {
            var matches = 0;
            switch (guard)
            {
                case SizeLimitGuard sizeLimit:
                    matches = sizeLimit.Exceeds(texts, RequestText.MessageCount(request.Operation, request.Root)) ? 1 : 0;
                    break;
                case TextGuard textGuard:
                    for (var i = 0; i < texts.Count; i++)
                    {
                        found.Clear();
                        textGuard.Find(texts[i], found);
                        matches += found.Count;
                        if (found.Count > 0 && guard.Action == GuardAction.Redact)
                        {
                            redactions ??= new List<TextMatch>?[texts.Count];
                            (redactions[i] ??= []).AddRange(found);
                        }
                    }

                    break;
            }

            if (matches == 0)
            {
                continue;
            }

            telemetry.Record(policy.Name, guard.Name, guard.Type, Actions.Of(guard.Action), Stages.Input, matches);
            if (guard.Action == GuardAction.Block)
            {
                return new InputVerdict(guard.Name, null);
            }
        }

        if (redactions is null)
        {
            return default;
        }

        var replacements = new string?[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            if (redactions[i] is { } spans)
            {
                Redactor.Normalize(spans);
                replacements[i] = Redactor.Apply(texts[i], spans, table);
            }
        }

        return new InputVerdict(null, replacements);
    }

    private async Task<bool> PassesWatcherAsync(HttpContext context, GuardrailPolicy policy, WatcherGuard guard, List<string> texts, string?[]? replacements)
    {
        // The judge sees what the provider will see: redacted text, never the values the policy hid.
        var judged = new string[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            judged[i] = replacements?[i] ?? texts[i];
        }

        var verdict = await watcher.JudgeAsync(guard, string.Join("\n\n", judged), context.RequestAborted);
        switch (verdict)
        {
            case WatcherVerdict.Safe:
                return true;
            case WatcherVerdict.Failed:
                telemetry.Record(policy.Name, guard.Name, guard.Type, guard.FailClosed ? "fail_closed" : "fail_open", Stages.Input, 0);
                return !guard.FailClosed || guard.Action != GuardAction.Block;
            default:
                telemetry.Record(policy.Name, guard.Name, guard.Type, Actions.Of(guard.Action), Stages.Input, 1);
                return guard.Action != GuardAction.Block;
        }
    }

    private async Task GuardOutputAsync(HttpContext context, LlmRequestFeature request, GuardrailPolicy policy, MaskingTable? table, JsonElement? schema)
    {
        // The answer is rewritten as a whole, so it must arrive unencoded.
        context.Request.Headers.AcceptEncoding = default;
        var response = context.Response;
        var client = response.Body;
        using var buffer = new HeldResponseBody();
        response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            response.Body = client;
        }

        var body = buffer.Written;
        string? blockedBy = null;
        var rewritten = response.StatusCode == StatusCodes.Status200OK && !response.HasStarted
            ? ResponseText.Rewrite(request.Operation, body, text => GuardChoice(policy, table, schema, text, ref blockedBy))
            : null;
        if (rewritten is not null)
        {
            body = rewritten;
            response.ContentLength = rewritten.Length;
            if (blockedBy is not null)
            {
                response.Headers[GuardHeader] = blockedBy;
            }
        }

        await client.WriteAsync(body, context.RequestAborted);
    }

    private ChoiceOutcome GuardChoice(GuardrailPolicy policy, MaskingTable? table, JsonElement? schema, string text, ref string? blockedBy)
    {
        var found = new List<TextMatch>();
        foreach (var guard in policy.Output)
        {
            found.Clear();
            switch (guard)
            {
                case TextGuard textGuard:
                    textGuard.Find(text, found);
                    break;
                case JsonSchemaGuard when schema is { } expected && !SatisfiesSchema(expected, text):
                    found.Add(new TextMatch(0, text.Length, "JSON"));
                    break;
            }

            if (found.Count == 0)
            {
                continue;
            }

            telemetry.Record(policy.Name, guard.Name, guard.Type, Actions.Of(guard.Action), Stages.Output, found.Count);
            if (guard.Action == GuardAction.Block)
            {
                blockedBy ??= guard.Name;
                return new ChoiceOutcome("", Blocked: true);
            }

            if (guard.Action == GuardAction.Redact)
            {
                Redactor.Normalize(found);
                text = Redactor.Apply(text, found, table: null);
            }
        }

        // Placeholders go back last: output guards judge what the model wrote, then users get their own values back.
        if (table is { Count: > 0 })
        {
            var restored = table.Restore(text);
            if (!ReferenceEquals(restored, text) && !string.Equals(restored, text, StringComparison.Ordinal))
            {
                telemetry.Record(policy.Name, "reversible-masking", GuardType.Pii, Actions.Restore, Stages.Output, table.Count);
            }

            text = restored;
        }

        return new ChoiceOutcome(text, Blocked: false);
    }

    private static bool SatisfiesSchema(JsonElement schema, string text)
    {
        try
        {
            using var answer = JsonDocument.Parse(text);
            return JsonSchemaValidator.Validate(schema, answer.RootElement) is null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The schema of <c>response_format: {type: "json_schema", json_schema: {schema}}</c>, if the request has one.</summary>
    private static JsonElement? JsonSchemaOf(LlmRequestFeature request) =>
        request.Operation == LlmOperation.ChatCompletions
        && request.Root.TryGetProperty("response_format"u8, out var format) && format.ValueKind == JsonValueKind.Object
        && format.TryGetProperty("type"u8, out var type) && type.ValueEquals("json_schema"u8)
        && format.TryGetProperty("json_schema"u8, out var definition) && definition.ValueKind == JsonValueKind.Object
        && definition.TryGetProperty("schema"u8, out var schema)
            ? schema
            : null;

    private static GatewayError Blocked(string guard) =>
        new(StatusCodes.Status400BadRequest,
            $"The request was blocked by the gateway's guardrail '{guard}'.",
            GatewayError.InvalidRequest, "content_policy_violation");
}
