using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary>Answers one request body with a response; runs after the shared checks have passed.</summary>
internal delegate Task OpenAIResponder(MockExchange exchange, JsonElement body);

/// <summary>
/// The steps every OpenAI endpoint of the mock shares, in order: record the request, resolve the knobs, check the
/// API key, serve a forced error, parse the body and its <c>model</c>, then hand over to the endpoint.
/// </summary>
/// <remarks>
/// Malformed knobs, a bad key and a bad body are answered at once; a forced error waits for the time to first
/// token like any other response, so tests can combine slowness and failure.
/// </remarks>
internal sealed class OpenAIRequestRunner(
    IOptions<MockProviderOptions> options,
    MockProviderStats stats,
    MockSequence sequence,
    TimeProvider timeProvider)
{
    public async Task RunAsync(HttpContext context, OpenAIResponder respond, bool hasBody = true)
    {
        stats.Record(context.Request);
        var settings = options.Value;
        var number = sequence.Next();
        context.Response.Headers["x-request-id"] = string.Create(CultureInfo.InvariantCulture, $"req_mock_{number}");

        if (!MockKnobs.TryResolve(context.Request.Headers, settings, out var knobs, out var knobError))
        {
            await OpenAIErrors.WriteInvalidRequestAsync(context, knobError!, code: "invalid_mock_header");
            return;
        }

        if (settings.RequiredApiKey is { } requiredKey && !HasApiKey(context.Request, requiredKey, out var keyPresent))
        {
            await OpenAIErrors.WriteInvalidApiKeyAsync(context, keyPresent);
            return;
        }

        try
        {
            if (settings.TryTakeFailure())
            {
                await new MockExchange(context, knobs, number, "", timeProvider).WaitForFirstTokenAsync();
                await OpenAIErrors.WriteForcedAsync(context, settings.FailNextStatus, knobs.ErrorCode, knobs.RetryAfterSeconds);
                return;
            }

            if (knobs.ErrorStatus is { } status)
            {
                await new MockExchange(context, knobs, number, "", timeProvider).WaitForFirstTokenAsync();
                await OpenAIErrors.WriteForcedAsync(context, status, knobs.ErrorCode, knobs.RetryAfterSeconds);
                return;
            }

            if (!hasBody)
            {
                await respond(new MockExchange(context, knobs, number, "", timeProvider), default);
                return;
            }

            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            }
            catch (JsonException)
            {
                await OpenAIErrors.WriteInvalidRequestAsync(context, "We could not parse the JSON body of your request. The request body must be a JSON object.");
                return;
            }

            using (document)
            {
                var body = document.RootElement;
                if (body.ValueKind != JsonValueKind.Object)
                {
                    await OpenAIErrors.WriteInvalidRequestAsync(context, "The request body must be a JSON object.");
                    return;
                }

                if (!body.TryGetProperty("model"u8, out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } modelName)
                {
                    await OpenAIErrors.WriteMissingParameterAsync(context, "model");
                    return;
                }

                await respond(new MockExchange(context, knobs, number, modelName, timeProvider), body);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-delay or mid-stream; there is nobody left to answer.
        }
        finally
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                stats.RecordCancelled();
            }
        }
    }

    /// <summary>Any other path under <c>/v1</c>: a 404 worded like OpenAI's.</summary>
    public Task NotFoundAsync(HttpContext context)
    {
        stats.Record(context.Request);
        return OpenAIErrors.WriteAsync(
            context,
            StatusCodes.Status404NotFound,
            $"Invalid URL ({context.Request.Method} {context.Request.Path}).",
            OpenAIErrors.InvalidRequest,
            code: null);
    }

    private static bool HasApiKey(HttpRequest request, string requiredKey, out bool keyPresent)
    {
        // Azure OpenAI sends the key in an api-key header instead of a bearer token.
        var apiKey = request.Headers["api-key"].ToString();
        if (apiKey.Length > 0)
        {
            keyPresent = true;
            return string.Equals(apiKey, requiredKey, StringComparison.Ordinal);
        }

        var authorization = request.Headers.Authorization.ToString().AsSpan();
        keyPresent = authorization.Length > 0;
        const string scheme = "Bearer ";
        return authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && authorization[scheme.Length..].Trim().SequenceEqual(requiredKey);
    }
}
