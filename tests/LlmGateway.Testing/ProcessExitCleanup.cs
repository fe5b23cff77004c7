using System.Collections.Concurrent;

namespace LlmGateway.Testing;

/// <summary>
/// Kills the child processes and deletes the temporary directories that are still alive when the test
/// process exits normally, so that a test that forgot to dispose a server leaves nothing behind.
/// </summary>
/// <remarks>
/// An abrupt end of the test process (SIGKILL) runs no handler; <see cref="ChildProcess"/> covers that
/// case with a parent-death signal.
/// </remarks>
internal static class ProcessExitCleanup
{
    private static readonly ConcurrentDictionary<ChildProcess, byte> s_processes = new();
    private static readonly ConcurrentDictionary<TemporaryDirectory, byte> s_directories = new();

    static ProcessExitCleanup() => AppDomain.CurrentDomain.ProcessExit += (_, _) => Run();

    public static void Register(ChildProcess process) => s_processes.TryAdd(process, 0);

    public static void Unregister(ChildProcess process) => s_processes.TryRemove(process, out _);

    public static void Register(TemporaryDirectory directory) => s_directories.TryAdd(directory, 0);

    public static void Unregister(TemporaryDirectory directory) => s_directories.TryRemove(directory, out _);

    private static void Run()
    {
        foreach (var process in s_processes.Keys)
        {
            process.KillNow();
        }

        foreach (var directory in s_directories.Keys)
        {
            directory.Delete();
        }
    }
}
