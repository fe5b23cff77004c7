using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using LlmGateway.Routing;

namespace LlmGateway.Guardrails;

public enum WatcherVerdict
{
    Safe,
    Unsafe,

    /// <summary>No verdict: the judge failed, timed out, or answered neither word. The guard's FailClosed decides.</summary>
    Failed,
}

/// <summary>
/// Asks a configured chat model, through the gateway's own providers, whether text is safe. The judge answers
/// <c>safe</c> or <c>unsafe</c> as its first word (Llama Guard's convention); anything else is no verdict.
/// </summary>
internal sealed class WatcherClient(ModelCatalog catalog, IHttpClientFactory httpClientFactory, GuardrailTelemetry telemetry)
{
    public const string HttpClientName = "guardrails-watcher";

    public async Task<WatcherVerdict> JudgeAsync(WatcherGuard guard, string text, CancellationToken cancellationToken)
    {
        var route = catalog.Resolve(guard.Model);
        if (route?.Provider.BaseAddress is not { } baseAddress)
        {
            telemetry.WatcherFailed(guard.Name, "the judge model has no reachable provider");
            return WatcherVerdict.Failed;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(guard.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress.AbsoluteUri.TrimEnd('/') + "/chat/completions"))
        {
            Content = new ReadOnlyMemoryContent(RequestBody(route.UpstreamModel, guard.Prompt, text)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (route.Provider.CredentialHeaderValue is { } credential)
        {
            request.Headers.TryAddWithoutValidation(route.Provider.CredentialHeaderName, credential);
        }

        try
        {
            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                telemetry.WatcherFailed(guard.Name, $"the judge answered HTTP {(int)response.StatusCode}");
                return WatcherVerdict.Failed;
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
            return ParseVerdict(document.RootElement, guard);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            telemetry.WatcherFailed(guard.Name, $"no verdict within {guard.Timeout.TotalMilliseconds:0} ms");
            return WatcherVerdict.Failed;
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException)
        {
            telemetry.WatcherFailed(guard.Name, exception.GetType().Name);
            return WatcherVerdict.Failed;
        }
    }

    /// <summary>Reads the first word of <c>choices[0].message.content</c>.</summary>
    internal static WatcherVerdict ParseVerdict(string? content)
    {
        var answer = content.AsSpan().TrimStart();
        var end = 0;
        while (end < answer.Length && char.IsAsciiLetter(answer[end]))
        {
            end++;
        }

        var word = answer[..end];
        return word.Equals("unsafe", StringComparison.OrdinalIgnoreCase) ? WatcherVerdict.Unsafe
            : word.Equals("safe", StringComparison.OrdinalIgnoreCase) ? WatcherVerdict.Safe
            : WatcherVerdict.Failed;
    }

    private WatcherVerdict ParseVerdict(JsonElement root, WatcherGuard guard)
    {
        if (root.TryGetProperty("choices"u8, out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
            && choices[0].TryGetProperty("message"u8, out var message) && message.TryGetProperty("content"u8, out var content)
            && content.ValueKind == JsonValueKind.String)
        {
            var verdict = ParseVerdict(content.GetString());
            if (verdict == WatcherVerdict.Failed)
            {
                telemetry.WatcherFailed(guard.Name, "the judge answered neither 'safe' nor 'unsafe'");
            }

            return verdict;
        }

        telemetry.WatcherFailed(guard.Name, "the judge's answer has no message content");
        return WatcherVerdict.Failed;
    }

    private static ReadOnlyMemory<byte> RequestBody(string model, string prompt, string text)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + text.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, model);
            writer.WriteStartArray("messages"u8);
            writer.WriteStartObject();
            writer.WriteString("role"u8, "system");
            writer.WriteString("content"u8, prompt);
            writer.WriteEndObject();
            writer.WriteStartObject();
            writer.WriteString("role"u8, "user");
            writer.WriteString("content"u8, text);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteNumber("max_tokens"u8, 10);
            writer.WriteNumber("temperature"u8, 0);
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }
}
