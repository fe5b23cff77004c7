using System.Globalization;
using LlmGateway.Errors;

namespace LlmGateway.Metering;

/// <summary>The errors of the metering stages (metering, budgets, rate limits), in OpenAI's shape.</summary>
public static class MeteringErrors
{
    public static GatewayError ModelNotPriced(string model) =>
        new(StatusCodes.Status400BadRequest,
            $"The model '{model}' has no price configured, and this gateway refuses unpriced models.",
            GatewayError.InvalidRequest, "model_not_priced", "model");

    public static GatewayError BudgetExceeded(string scope, string name, decimal committedUsd, decimal limitUsd, string period, decimal worstCaseUsd) =>
        new(StatusCodes.Status429TooManyRequests,
            string.Create(CultureInfo.InvariantCulture,
                $"Budget exceeded for {scope} '{name}': ${MeteringHeaders.FormatUsd(committedUsd)} of ${MeteringHeaders.FormatUsd(limitUsd)} is spent or reserved {period}, and this request may cost up to ${MeteringHeaders.FormatUsd(worstCaseUsd)}. Lower max_tokens or ask for a larger budget."),
            "insufficient_quota", "budget_exceeded");

    public static GatewayError RateLimitExceeded(string scope, string name, string limitName, long limit, TimeSpan retryAfter) =>
        new(StatusCodes.Status429TooManyRequests,
            string.Create(CultureInfo.InvariantCulture,
                $"Rate limit reached for {scope} '{name}' on {limitName}: limit {limit}. Please try again in {RateLimitDuration(retryAfter)}."),
            limitName.StartsWith("tokens", StringComparison.Ordinal) ? "tokens" : "requests", "rate_limit_exceeded");

    public static GatewayError Unavailable() =>
        new(StatusCodes.Status503ServiceUnavailable,
            "The gateway cannot check budgets and rate limits right now (its shared store is unreachable), and it is set to refuse requests then.",
            GatewayError.ServerError, "metering_unavailable");

    /// <summary>A duration as OpenAI writes it in <c>x-ratelimit-reset-*</c>: <c>20ms</c>, <c>1.5s</c>, <c>6m0s</c>.</summary>
    public static string RateLimitDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (long)Math.Ceiling(duration.TotalMilliseconds))}ms");
        }

        if (duration < TimeSpan.FromMinutes(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Round(duration.TotalSeconds, 3):0.###}s");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalMinutes}m{Math.Round(duration.TotalSeconds % 60, 3):0.###}s");
    }
}
