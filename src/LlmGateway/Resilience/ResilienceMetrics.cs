using System.Diagnostics.Metrics;
using LlmGateway.Routing;
using LlmGateway.Telemetry;
using Polly.CircuitBreaker;

namespace LlmGateway.Resilience;

/// <summary>
/// The resilience stage's instruments: every upstream attempt by deployment and outcome, and each deployment's circuit
/// breaker state. Deployments are fixed by configuration, so every tag list is built once at start-up and an attempt
/// is counted without allocating.
/// </summary>
internal sealed class ResilienceMetrics : IHostedService
{
    /// <summary>Not an <see cref="AttemptResult"/>: the deployment's breaker was open, so nothing was sent.</summary>
    public const int BreakerOpen = (int)AttemptResult.NoDeployment + 1;

    /// <summary>Not an <see cref="AttemptResult"/>: one of two hedged attempts, stopped because the other answered first.</summary>
    public const int Cancelled = BreakerOpen + 1;

    /// <summary>The outcome label of each <see cref="AttemptResult"/> (snake case of its name), then the two above.</summary>
    private static readonly string[] OutcomeNames = [.. Enum.GetNames<AttemptResult>().Select(SnakeCase), "breaker_open", "cancelled"];

    private readonly Counter<long> _attempts;
    private readonly Dictionary<Deployment, KeyValuePair<string, object?>[][]> _attemptTags = new(ReferenceEqualityComparer.Instance);
    private readonly List<(DeploymentCircuitBreaker Breaker, KeyValuePair<string, object?>[] Tags)> _breakers = [];

    public ResilienceMetrics(GatewayTelemetry telemetry, ModelCatalog catalog)
    {
        foreach (var model in catalog.Models)
        {
            foreach (var deployment in model.Deployments)
            {
                var byOutcome = new KeyValuePair<string, object?>[OutcomeNames.Length][];
                for (var outcome = 0; outcome < byOutcome.Length; outcome++)
                {
                    byOutcome[outcome] = [.. DeploymentTags(deployment), new("llm_gateway.attempt.outcome", OutcomeNames[outcome])];
                }

                _attemptTags[deployment] = byOutcome;
                if (deployment.Breaker is { } breaker)
                {
                    _breakers.Add((breaker, DeploymentTags(deployment)));
                }
            }
        }

        var meter = telemetry.Meter;
        _attempts = meter.CreateCounter<long>("llmgateway.upstream.attempts", "{attempt}",
            "Upstream attempts (retries, failovers and hedges each count) by model, deployment, provider and outcome; breaker_open was not sent.");
        meter.CreateObservableGauge("llmgateway.breaker.state", ObserveBreakers, "{state}",
            "Each deployment's circuit breaker: 0 closed, 1 half-open (probing), 2 open (out of rotation), 3 isolated.");
    }

    /// <summary>Counts one attempt; <paramref name="outcome"/> is an <see cref="AttemptResult"/>, <see cref="BreakerOpen"/> or <see cref="Cancelled"/>.</summary>
    public void RecordAttempt(Deployment deployment, int outcome)
    {
        if (_attempts.Enabled && _attemptTags.TryGetValue(deployment, out var byOutcome))
        {
            _attempts.Add(1, byOutcome[outcome]);
        }
    }

    public void RecordAttempt(Deployment deployment, AttemptResult outcome) => RecordAttempt(deployment, (int)outcome);

    /// <summary>Nothing to start: resolving this at start-up creates the breaker gauge before the first scrape.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<int>> ObserveBreakers()
    {
        foreach (var (breaker, tags) in _breakers)
        {
            yield return new Measurement<int>(breaker.State switch
            {
                CircuitState.Closed => 0,
                CircuitState.HalfOpen => 1,
                CircuitState.Open => 2,
                _ => 3,
            }, tags);
        }
    }

    private static string SnakeCase(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && builder.Length > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    private static KeyValuePair<string, object?>[] DeploymentTags(Deployment deployment) =>
    [
        new("llm_gateway.model", deployment.Model.Name),
        new("llm_gateway.deployment", deployment.Name),
        new("gen_ai.provider.name", deployment.Provider.Name),
    ];
}
