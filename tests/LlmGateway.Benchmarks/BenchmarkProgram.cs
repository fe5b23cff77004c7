using BenchmarkDotNet.Running;

namespace LlmGateway.Benchmarks;

/// <summary>
/// Micro-benchmarks of the gateway's per-request hot paths. Run all with
/// <c>dotnet run -c Release --project tests/LlmGateway.Benchmarks -- --filter '*'</c> (add <c>--job short</c> for a quick pass).
/// <c>-- trace-report FILE</c> instead reads a runtime trace that <c>tests/benchmarks/profile.sh --trace</c> recorded
/// (<see cref="TraceReport"/>).
/// </summary>
public static class BenchmarkProgram
{
    public static int Main(string[] args)
    {
        if (args is ["trace-report", var trace])
        {
            return TraceReport.Run(trace, Console.Out);
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
        return 0;
    }
}
