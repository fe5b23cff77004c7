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
                // An outcome without attempts attached carries an exception: never retried.
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Result.Attempts is { } attempts && attempts.ShouldRetry(args.Outcome.Result)),
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Result.Attempts?.RetryDelay(args.Outcome.Result)),
                OnRetry = static args =>
                {
                    args.Outcome.Result.Attempts?.OnRetry(args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.Build();
    }
}
