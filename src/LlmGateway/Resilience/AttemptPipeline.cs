using LlmGateway.Routing;
using Polly;
using Polly.Retry;

namespace LlmGateway.Resilience;

/// <summary>
/// A model's Polly pipeline around the attempts of one request: the total deadline outside, retries inside. A retry
/// that can move to a deployment not yet tried goes at once; one that must try the same deployment again waits the
/// upstream's <c>Retry-After</c>, or else a jittered exponential backoff.
/// </summary>
internal static class AttemptPipeline
{
    public static readonly ResiliencePropertyKey<AttemptContext> AttemptKey = new("LlmGateway.Attempt");

    public static ResiliencePipeline<AttemptOutcome> For(RoutedModel model, TimeProvider timeProvider)
    {
        var options = model.Options;
        var builder = new ResiliencePipelineBuilder<AttemptOutcome> { TimeProvider = timeProvider }
            .AddTimeout(options.Timeouts.Total);
        if (options.Retry.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<AttemptOutcome>
            {
                MaxRetryAttempts = options.Retry.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.Retry.BaseDelay,
                MaxDelay = options.Retry.MaxDelay,
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is null
                    && args.Context.Properties.TryGetValue(AttemptKey, out var attempt)
                    && attempt.ShouldRetry(args.Outcome.Result)),
                DelayGenerator = static args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(AttemptKey, out var attempt) ? attempt.RetryDelay(args.Outcome.Result) : null),
                OnRetry = static args =>
                {
                    if (args.Context.Properties.TryGetValue(AttemptKey, out var attempt))
                    {
                        attempt.OnRetry(args.RetryDelay);
                    }

                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.Build();
    }
}
