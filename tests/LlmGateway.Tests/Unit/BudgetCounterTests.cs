using LlmGateway.Budgets;
using LlmGateway.Metering;

namespace LlmGateway.Tests.Unit;

/// <summary>
/// A budget's counter names its UTC period; replicas sharing Redis (and replicas of older builds, during a rolling
/// upgrade) must all make the same key, so the keys are spelled out here rather than derived.
/// </summary>
public sealed class BudgetCounterTests
{
    private static readonly DateTimeOffset LastMomentOfJanuary = new(2026, 1, 31, 23, 59, 59, 999, TimeSpan.Zero);
    private static readonly DateTimeOffset FirstMomentOfFebruary = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ADailyBudget_CountsInTheUtcDay_AndMovesToANewCounterAtMidnight()
    {
        var budget = new ConfiguredBudget("virtual key", "alice", "key", new BudgetLimit { LimitUsd = 1.5m, Period = BudgetPeriod.Day });

        var january = budget.CounterAt(LastMomentOfJanuary);
        var february = budget.CounterAt(FirstMomentOfFebruary);

        january.ShouldBe(new BudgetCounter("llmgw:budget:key:alice:d20260131", Money.ToPicodollars(1.5m), TimeSpan.FromDays(2)));
        february.ShouldBe(new BudgetCounter("llmgw:budget:key:alice:d20260201", Money.ToPicodollars(1.5m), TimeSpan.FromDays(2)));
        budget.CounterAt(new DateTimeOffset(2026, 2, 1, 1, 30, 0, TimeSpan.FromHours(2))).Key.ShouldBe("llmgw:budget:key:alice:d20260131", "01:30 at +02:00 is still January 31 in UTC");
        budget.CounterAt(LastMomentOfJanuary).Key.ShouldBe("llmgw:budget:key:alice:d20260131", "a clock stepping back finds the earlier period's counter");
    }

    [Fact]
    public void AMonthlyBudget_CountsInTheUtcMonth_AndALifetimeBudgetNeverMoves()
    {
        var monthly = new ConfiguredBudget("team", "team-a", "team", new BudgetLimit { LimitUsd = 20m, Period = BudgetPeriod.Month });
        var lifetime = new ConfiguredBudget("team", "team-b", "team", new BudgetLimit { LimitUsd = 3m, Period = BudgetPeriod.None });

        monthly.CounterAt(LastMomentOfJanuary).ShouldBe(new BudgetCounter("llmgw:budget:team:team-a:m202601", Money.ToPicodollars(20m), TimeSpan.FromDays(33)));
        monthly.CounterAt(FirstMomentOfFebruary).ShouldBe(new BudgetCounter("llmgw:budget:team:team-a:m202602", Money.ToPicodollars(20m), TimeSpan.FromDays(33)));
        lifetime.CounterAt(LastMomentOfJanuary).ShouldBe(new BudgetCounter("llmgw:budget:team:team-b:all", Money.ToPicodollars(3m), null));
        lifetime.CounterAt(FirstMomentOfFebruary.AddYears(3)).Key.ShouldBe("llmgw:budget:team:team-b:all");
    }

    [Fact]
    public void WithinAPeriod_TheCounterIsMadeOnce()
    {
        var budget = new ConfiguredBudget("virtual key", "alice", "key", new BudgetLimit { LimitUsd = 1m, Period = BudgetPeriod.Day });

        var first = budget.CounterAt(FirstMomentOfFebruary);
        var later = budget.CounterAt(FirstMomentOfFebruary.AddHours(23));

        ReferenceEquals(later.Key, first.Key).ShouldBeTrue("the same day's key is not formatted again");
    }

    [Fact]
    public void RequestsRacingOverMidnight_EachGetTheCounterOfTheirOwnDay()
    {
        var budget = new ConfiguredBudget("virtual key", "alice", "key", new BudgetLimit { LimitUsd = 1m, Period = BudgetPeriod.Day });
        var wrong = 0;

        Parallel.For(0, 20_000, i =>
        {
            var (now, expected) = i % 2 == 0
                ? (LastMomentOfJanuary, "llmgw:budget:key:alice:d20260131")
                : (FirstMomentOfFebruary, "llmgw:budget:key:alice:d20260201");
            if (budget.CounterAt(now).Key != expected)
            {
                Interlocked.Increment(ref wrong);
            }
        });

        wrong.ShouldBe(0);
    }
}
