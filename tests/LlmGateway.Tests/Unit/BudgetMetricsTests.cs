using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlmGateway.Budgets;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.Telemetry;
using LlmGateway.Tests.Functional;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Unit;

/// <summary>The budget gauges read the budget store at most once per refresh interval, however often they are scraped.</summary>
[Collection(TelemetryTestGroup.Name)]
public sealed class BudgetMetricsTests
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Gauges_ReportEachBudget_AndAScrapeStormReadsTheStoreOncePerInterval()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 31, 23, 0, 0, TimeSpan.Zero));
        var store = new CountingBudgetStore();
        var options = new GatewayOptions
        {
            Budgets = new BudgetOptions
            {
                Keys = { ["alice"] = new BudgetLimit { LimitUsd = 1m, Period = BudgetPeriod.Day } },
                Teams =
                {
                    ["team-a"] = new BudgetLimit { LimitUsd = 2m, Period = BudgetPeriod.Month },
                    ["forever"] = new BudgetLimit { LimitUsd = 3m, Period = BudgetPeriod.None },
                },
            },
        };
        var aliceToday = ConfiguredBudget.CounterFor("key", "alice", options.Budgets.Keys["alice"], clock.GetUtcNow());
        await store.TryReserveAsync([aliceToday], Money.ToPicodollars(0.25m), TestContext.Current.CancellationToken);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var telemetry = new GatewayTelemetry(services.GetRequiredService<IMeterFactory>());
        var metrics = new BudgetMetrics(telemetry, Options.Create(options), Options.Create(new TelemetryOptions { BudgetRefreshInterval = RefreshInterval }),
            store, clock, NullLogger<BudgetMetrics>.Instance);
        using var gauges = new GaugeReader(telemetry.Meter);

        await metrics.StartAsync(TestContext.Current.CancellationToken);
        await WaitForReadsAsync(store, 3);

        var first = gauges.Read();
        first[("llmgateway.budget.remaining", "alice")].ShouldBe(0.75);
        first[("llmgateway.budget.remaining", "team-a")].ShouldBe(2);
        first[("llmgateway.budget.remaining", "forever")].ShouldBe(3);
        first[("llmgateway.budget.limit", "alice")].ShouldBe(1);
        first[("llmgateway.budget.reset_time", "alice")].ShouldBe(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds());
        first[("llmgateway.budget.reset_time", "team-a")].ShouldBe(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds());
        first.ShouldNotContainKey(("llmgateway.budget.reset_time", "forever"), "a lifetime budget never starts over");

        // Spend moves on; a storm of scrapes within the interval reports the last values and reads nothing.
        await store.TryReserveAsync([aliceToday], Money.ToPicodollars(0.25m), TestContext.Current.CancellationToken);
        clock.Advance(RefreshInterval - TimeSpan.FromSeconds(1));
        for (var i = 0; i < 100; i++)
        {
            gauges.Read()[("llmgateway.budget.remaining", "alice")].ShouldBe(0.75);
        }

        store.Reads.ShouldBe(3);

        // Past the interval, one scrape starts one refresh; the scrapes after it see the new spend.
        clock.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 100; i++)
        {
            gauges.Read();
        }

        await WaitForReadsAsync(store, 6);
        gauges.Read()[("llmgateway.budget.remaining", "alice")].ShouldBe(0.5);
        store.Reads.ShouldBe(6);

        // A new day is a new period: alice's daily budget is whole again, and it resets a day later.
        clock.Advance(TimeSpan.FromHours(1));
        gauges.Read();
        await WaitForReadsAsync(store, 9);
        var nextDay = gauges.Read();
        nextDay[("llmgateway.budget.remaining", "alice")].ShouldBe(1);
        nextDay[("llmgateway.budget.reset_time", "alice")].ShouldBe(new DateTimeOffset(2026, 2, 2, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds());
        nextDay[("llmgateway.budget.reset_time", "team-a")].ShouldBe(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds());
    }

    private static async Task WaitForReadsAsync(CountingBudgetStore store, int reads)
    {
        var waited = Stopwatch.StartNew();
        while (store.Reads < reads && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        store.Reads.ShouldBe(reads);

        // The refresh marks itself done just after its last read.
        await Task.Delay(50, TestContext.Current.CancellationToken);
    }

    /// <summary>The real in-memory store, counting the reads the gauges make.</summary>
    private sealed class CountingBudgetStore : IBudgetStore
    {
        private readonly InMemoryBudgetStore _inner = new();
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public ValueTask<BudgetReservation> TryReserveAsync(IReadOnlyList<BudgetCounter> counters, long amount, CancellationToken cancellationToken = default) =>
            _inner.TryReserveAsync(counters, amount, cancellationToken);

        public ValueTask SettleAsync(string settlementId, IReadOnlyList<BudgetCounter> counters, long reserved, long actual, CancellationToken cancellationToken = default) =>
            _inner.SettleAsync(settlementId, counters, reserved, actual, cancellationToken);

        public ValueTask<long> GetCommittedAsync(string counterKey, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            return _inner.GetCommittedAsync(counterKey, cancellationToken);
        }
    }

    /// <summary>Collects the observable gauges of one meter, keyed by instrument and budget name.</summary>
    private sealed class GaugeReader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private Dictionary<(string, string), double> _values = [];

        public GaugeReader(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public Dictionary<(string Instrument, string Budget), double> Read()
        {
            _values = [];
            _listener.RecordObservableInstruments();
            return _values;
        }

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "llm_gateway.budget.name")
                {
                    _values[(instrument.Name, (string)tag.Value!)] = value;
                }
            }
        }
    }
}
