using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LlmGateway.Benchmarks;

/// <summary>
/// Reads a runtime trace that <c>tests/benchmarks/profile.sh --trace</c> recorded (EventPipe: the runtime's GC, loader
/// and JIT events at verbose level) and prints where the garbage collector's pauses go and which code allocates. Run
/// as <c>dotnet run -c Release --project tests/LlmGateway.Benchmarks -- trace-report FILE.nettrace</c>.
/// </summary>
/// <remarks>
/// The allocation figures come from the runtime's allocation ticks: one event about every 100 KB allocated, naming the
/// type and the stack of the allocation that crossed the mark. Over a run of millions of requests they give each
/// allocation site's share of the bytes; they are samples, not counts.
/// </remarks>
internal static class TraceReport
{
    // The runtime's mark_root_type, the kinds of roots a collection marks from (GCMarkWithType's Type).
    private static readonly string[] RootKinds =
        ["stacks", "finalization queue", "handles", "older generations (cards)", "sized refs", "overflow", "dependent handles", "finalization queue (new)"];

    public static int Run(string path, TextWriter output)
    {
        if (!File.Exists(path))
        {
            output.WriteLine($"no trace at {path}");
            return 2;
        }

        var etlx = TraceLog.CreateFromEventPipeDataFile(path);
        using var log = new TraceLog(etlx);
        var collections = new List<Collection>();
        var markTime = new Dictionary<string, double>();
        var sites = new Dictionary<string, long>();
        var types = new Dictionary<string, long>();
        long sampled = 0;
        Collection? current = null;
        double suspendBegin = 0, suspendEnd = 0, lastMark = 0;

        var source = log.Events.GetSource();
        source.Clr.GCSuspendEEStart += e => suspendBegin = e.TimeStampRelativeMSec;
        source.Clr.GCSuspendEEStop += e => suspendEnd = e.TimeStampRelativeMSec;
        source.Clr.GCStart += e =>
        {
            current = new Collection(e.Depth, e.Type.ToString(), e.Reason.ToString())
            {
                Suspension = suspendEnd - suspendBegin, PauseStart = suspendBegin, Start = e.TimeStampRelativeMSec,
            };
            lastMark = e.TimeStampRelativeMSec;
        };
        source.Clr.GCMarkWithType += e =>
        {
            if (current is null)
            {
                return;
            }

            var kind = e.Type >= 0 && e.Type < RootKinds.Length ? RootKinds[e.Type] : $"root kind {e.Type}";
            markTime[kind] = markTime.GetValueOrDefault(kind) + (e.TimeStampRelativeMSec - lastMark);
            lastMark = e.TimeStampRelativeMSec;
        };
        source.Clr.GCStop += e =>
        {
            if (current is not null)
            {
                current.Work = e.TimeStampRelativeMSec - current.Start;
                markTime["after marking (plan, relocate, compact or sweep)"] =
                    markTime.GetValueOrDefault("after marking (plan, relocate, compact or sweep)") + (e.TimeStampRelativeMSec - lastMark);
            }
        };
        source.Clr.GCRestartEEStop += e =>
        {
            // A background collection's own restarts come without a GCStart of their own; only whole pauses count.
            if (current is { Pause: 0 } collection && suspendBegin > 0)
            {
                collection.Pause = e.TimeStampRelativeMSec - collection.PauseStart;
                collections.Add(collection);
            }

            current = null;
        };
        source.Clr.GCAllocationTick += e =>
        {
            var type = e.TypeName ?? "?";
            sampled += e.AllocationAmount64;
            types[type] = types.GetValueOrDefault(type) + e.AllocationAmount64;
            var site = $"{type} | {Site(e)}";
            sites[site] = sites.GetValueOrDefault(site) + e.AllocationAmount64;
        };
        source.Process();

        WriteCollections(output, collections, markTime);
        WriteAllocations(output, sampled, types, sites);
        return 0;
    }

    /// <summary>The allocating method and the first of the gateway's own methods below it on the stack.</summary>
    private static string Site(GCAllocationTickTraceData tick)
    {
        string? allocating = null, ours = null;
        var depth = 0;
        for (var frame = tick.CallStack(); frame is not null && depth < 60; frame = frame.Caller, depth++)
        {
            var name = frame.CodeAddress.FullMethodName;
            if (string.IsNullOrEmpty(name))
            {
                continue;
            }

            allocating ??= name;
            if (name.StartsWith("LlmGateway.", StringComparison.Ordinal))
            {
                ours = name;
                break;
            }
        }

        return $"{Shorten(allocating ?? "?")} | {(ours is null ? "-" : Shorten(ours))}";
    }

    private static string Shorten(string method)
    {
        var parameters = method.IndexOf('(', StringComparison.Ordinal);
        return parameters > 0 ? method[..parameters] : method;
    }

    private static void WriteCollections(TextWriter output, List<Collection> collections, Dictionary<string, double> markTime)
    {
        output.WriteLine($"## Collections ({collections.Count})");
        output.WriteLine();
        output.WriteLine("| generation | type | reason | count | pause p50 | pause p90 | pause max | suspension p50 | collection p50 |");
        output.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var group in collections.GroupBy(c => (c.Generation, c.Type, c.Reason)).OrderByDescending(g => g.Count()))
        {
            var pauses = group.Select(c => c.Pause).Order().ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| gen{group.Key.Generation} | {group.Key.Type} | {group.Key.Reason} | {pauses.Length} | {Percentile(pauses, 0.5):F3} ms | " +
                $"{Percentile(pauses, 0.9):F3} ms | {pauses[^1]:F3} ms | {Percentile(group.Select(c => c.Suspension), 0.5):F3} ms | " +
                $"{Percentile(group.Select(c => c.Work), 0.5):F3} ms |"));
        }

        if (collections.Count == 0)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine("Where a collection's time goes, mean per collection (marking by kind of root, then the rest):");
        output.WriteLine();
        foreach (var (phase, total) in markTime.OrderByDescending(p => p.Value))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"- {phase}: {total / collections.Count:F3} ms"));
        }

        output.WriteLine();
    }

    private static void WriteAllocations(TextWriter output, long sampled, Dictionary<string, long> types, Dictionary<string, long> sites)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"## Allocations ({sampled / 1048576.0:F0} MiB in the allocation ticks)"));
        output.WriteLine();
        output.WriteLine("| share | type | allocated in | first gateway method below it |");
        output.WriteLine("|---:|---|---|---|");
        foreach (var (site, bytes) in sites.OrderByDescending(s => s.Value).Take(40))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {100.0 * bytes / sampled:F1}% | {site} |"));
        }

        output.WriteLine();
        output.WriteLine("| share | type (all sites) |");
        output.WriteLine("|---:|---|");
        foreach (var (type, bytes) in types.OrderByDescending(t => t.Value).Take(20))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {100.0 * bytes / sampled:F1}% | {type} |"));
        }
    }

    private static double Percentile(IEnumerable<double> values, double quantile)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * quantile))];
    }

    private sealed class Collection(int generation, string type, string reason)
    {
        public int Generation { get; } = generation;

        public string Type { get; } = type;

        public string Reason { get; } = reason;

        public double PauseStart { get; init; }

        public double Start { get; init; }

        public double Suspension { get; init; }

        public double Work { get; set; }

        public double Pause { get; set; }
    }
}
