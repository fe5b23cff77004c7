using BenchmarkDotNet.Running;

namespace LlmGateway.Benchmarks;

/// <summary>
/// Micro-benchmarks of the gateway's per-request hot paths. Run all with
/// <c>dotnet run -c Release --project tests/LlmGateway.Benchmarks -- --filter '*'</c> (add <c>--job short</c> for a quick pass).
/// </summary>
public static class BenchmarkProgram
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
}
