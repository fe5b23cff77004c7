using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace LlmGateway.MockProvider;

/// <summary>The behaviour of one request: the options, overridden by any <see cref="MockProviderHeaders"/> present.</summary>
internal readonly record struct MockKnobs(
    int TimeToFirstTokenMs,
    int TokenDelayMs,
    int CompletionTokens,
    int? ErrorStatus,
    string? ErrorCode,
    int? RetryAfterSeconds,
    int? FailAfterTokens,
    string? ToolCall,
    string? AnswerText)
{
    // Large enough for any test, small enough that a typo cannot park a request for hours.
    private const int MaxDelayMs = 10 * 60 * 1000;

    public static bool IsErrorStatus(int status) => status is >= 400 and <= 599;

    /// <summary>Resolves the knobs; a malformed header is the caller's bug, so it is reported rather than ignored.</summary>
    public static bool TryResolve(IHeaderDictionary headers, MockProviderOptions options, out MockKnobs knobs, out string? error)
    {
        knobs = default;
        error = null;

        var ttft = options.TimeToFirstTokenMs;
        var tokenDelay = options.TokenDelayMs;
        var completionTokens = options.CompletionTokens;
        var errorStatus = options.ErrorStatus;
        var retryAfter = options.RetryAfterSeconds;
        var failAfter = options.FailAfterTokens;

        if (!TryReadInt(headers, MockProviderHeaders.TimeToFirstTokenMs, 0, MaxDelayMs, ref ttft, ref error)
            || !TryReadInt(headers, MockProviderHeaders.TokenDelayMs, 0, MaxDelayMs, ref tokenDelay, ref error)
            || !TryReadInt(headers, MockProviderHeaders.CompletionTokens, 0, MockProviderOptions.MaxCompletionTokens, ref completionTokens, ref error)
            || !TryReadOptionalInt(headers, MockProviderHeaders.ErrorStatus, 0, 599, ref errorStatus, ref error)
            || !TryReadOptionalInt(headers, MockProviderHeaders.RetryAfter, 0, int.MaxValue, ref retryAfter, ref error)
            || !TryReadOptionalInt(headers, MockProviderHeaders.FailAfterTokens, -1, int.MaxValue, ref failAfter, ref error))
        {
            return false;
        }

        if (errorStatus == 0)
        {
            errorStatus = null;
        }
        else if (errorStatus is { } status && !IsErrorStatus(status))
        {
            error = $"Header '{MockProviderHeaders.ErrorStatus}' must be 0 (no error) or an HTTP error status between 400 and 599.";
            return false;
        }

        if (failAfter == -1)
        {
            failAfter = null;
        }

        var errorCode = headers.TryGetValue(MockProviderHeaders.ErrorCode, out var code) && !StringValues.IsNullOrEmpty(code)
            ? code.ToString()
            : options.ErrorCode;
        var toolCall = headers.TryGetValue(MockProviderHeaders.ToolCall, out var tool) && !StringValues.IsNullOrEmpty(tool)
            ? tool.ToString()
            : null;

        var answerText = headers.TryGetValue(MockProviderHeaders.Answer, out var answer) && !StringValues.IsNullOrEmpty(answer)
            ? answer.ToString()
            : options.AnswerText;

        knobs = new MockKnobs(ttft, tokenDelay, completionTokens, errorStatus, errorCode, retryAfter, failAfter, toolCall, answerText);
        return true;
    }

    private static bool TryReadInt(IHeaderDictionary headers, string name, int min, int max, ref int value, ref string? error)
    {
        int? optional = value;
        if (!TryReadOptionalInt(headers, name, min, max, ref optional, ref error))
        {
            return false;
        }

        value = optional.GetValueOrDefault();
        return true;
    }

    private static bool TryReadOptionalInt(IHeaderDictionary headers, string name, int min, int max, ref int? value, ref string? error)
    {
        if (!headers.TryGetValue(name, out var raw) || StringValues.IsNullOrEmpty(raw))
        {
            return true;
        }

        if (raw.Count == 1
            && int.TryParse(raw[0], NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            && parsed >= min && parsed <= max)
        {
            value = parsed;
            return true;
        }

        error = string.Create(CultureInfo.InvariantCulture, $"Header '{name}' must be an integer between {min} and {max} (got '{raw}').");
        return false;
    }
}
