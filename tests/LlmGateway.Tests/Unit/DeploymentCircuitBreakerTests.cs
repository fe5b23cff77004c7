using LlmGateway.Configuration;
using LlmGateway.Resilience;
using Polly.CircuitBreaker;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Unit;

public sealed class DeploymentCircuitBreakerTests
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureRatio = 1.0,
        MinimumThroughput = 3,
        SamplingDuration = TimeSpan.FromSeconds(30),
        BreakDuration = TimeSpan.FromMinutes(5),
    };

    [Fact]
    public async Task Opens_AfterTheConfiguredFailures_StaysOutOfRotationForTheBreak_ThenAProbeClosesIt()
    {
        var clock = new ManualClock();
        var breaker = new DeploymentCircuitBreaker(Options, clock);

        await RunAsync(breaker, AttemptResult.RetryableStatus);
        await RunAsync(breaker, AttemptResult.ConnectionFailed);
        breaker.AllowsTraffic.ShouldBeTrue("two failures are below the minimum throughput");
        await RunAsync(breaker, AttemptResult.TimedOut);

        breaker.State.ShouldBe(CircuitState.Open);
        breaker.AllowsTraffic.ShouldBeFalse();
        await Should.ThrowAsync<BrokenCircuitException>(() => RunAsync(breaker, AttemptResult.Passed));

        clock.Advance(TimeSpan.FromMinutes(4));
        breaker.AllowsTraffic.ShouldBeFalse();

        clock.Advance(TimeSpan.FromMinutes(1));
        breaker.AllowsTraffic.ShouldBeTrue("the break is over: one probe may go");
        await RunAsync(breaker, AttemptResult.Passed);
        breaker.State.ShouldBe(CircuitState.Closed);
    }

    [Fact]
    public async Task AFailedProbe_OpensItAgain()
    {
        var clock = new ManualClock();
        var breaker = new DeploymentCircuitBreaker(Options, clock);
        for (var i = 0; i < 3; i++)
        {
            await RunAsync(breaker, AttemptResult.RetryableStatus);
        }

        clock.Advance(Options.BreakDuration);
        await RunAsync(breaker, AttemptResult.ConnectionFailed);

        breaker.State.ShouldBe(CircuitState.Open);
        breaker.AllowsTraffic.ShouldBeFalse();
    }

    [Fact]
    public async Task ClientErrorsAndContextWindowErrors_DoNotCountAgainstTheDeployment()
    {
        var breaker = new DeploymentCircuitBreaker(Options, new ManualClock());
        for (var i = 0; i < 10; i++)
        {
            await RunAsync(breaker, i % 2 == 0 ? AttemptResult.HeldClientError : AttemptResult.ContextWindowExceeded);
        }

        breaker.State.ShouldBe(CircuitState.Closed);
    }

    private static async Task RunAsync(DeploymentCircuitBreaker breaker, AttemptResult result) =>
        await breaker.Pipeline.ExecuteAsync(_ => ValueTask.FromResult(new AttemptOutcome(result)), TestContext.Current.CancellationToken);
}
