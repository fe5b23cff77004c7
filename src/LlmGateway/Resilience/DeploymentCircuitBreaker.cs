using LlmGateway.Configuration;
using Polly;
using Polly.CircuitBreaker;

namespace LlmGateway.Resilience;

/// <summary>
/// A deployment's Polly circuit breaker. While it is open the deployment is out of rotation: routing skips it
/// without sending anything upstream. After the break duration one probe attempt is let through; its success closes
/// the breaker, its failure opens it again.
/// </summary>
/// <remarks>The breaker is per replica: each gateway judges an upstream by the failures it sees itself.</remarks>
internal sealed class DeploymentCircuitBreaker
{
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly TimeProvider _timeProvider;
    private long _probeAllowedAtUtcTicks;

    public DeploymentCircuitBreaker(CircuitBreakerOptions options, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        Pipeline = new ResiliencePipelineBuilder<AttemptOutcome> { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptOutcome>
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                StateProvider = _state,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is null
                    ? args.Outcome.Result.IsDeploymentFailure
                    : args.Outcome.Exception is not OperationCanceledException),
                OnOpened = args =>
                {
                    Volatile.Write(ref _probeAllowedAtUtcTicks, (_timeProvider.GetUtcNow() + args.BreakDuration).UtcTicks);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Runs an attempt through the breaker; while it is open the outcome is a <see cref="BrokenCircuitException"/>.</summary>
    public ResiliencePipeline<AttemptOutcome> Pipeline { get; }

    public CircuitState State => _state.CircuitState;

    /// <summary>Whether routing may pick the deployment: closed, half-open, or open long enough for a probe.</summary>
    public bool AllowsTraffic => _state.CircuitState switch
    {
        CircuitState.Closed or CircuitState.HalfOpen => true,
        CircuitState.Open => _timeProvider.GetUtcNow().UtcTicks >= Volatile.Read(ref _probeAllowedAtUtcTicks),
        _ => false,
    };
}
