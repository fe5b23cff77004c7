using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace LlmGateway.Testing;

/// <summary>
/// A server started by a test: its output is kept in a bounded buffer for diagnostics, it is stopped by its
/// PID, and it never outlives the test process.
/// </summary>
/// <remarks>
/// Three things make sure the child dies with the test process: disposal, a
/// <see cref="AppDomain.ProcessExit"/> handler, and, for a test process that is killed outright, a
/// parent-death signal (SIGKILL) set by <c>setpriv --pdeathsig</c> before the program is executed. The kernel
/// sends that signal when the <em>thread</em> that forked the child ends, so every child is forked by one
/// dedicated thread that lives as long as the process.
/// </remarks>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private const int SignalTerminate = 15;
    private const int SignalKill = 9;
    private const int OutputCapacity = 64 * 1024;
    private const string SetPrivPath = "/usr/bin/setpriv";

    private static readonly TimeSpan s_defaultGracePeriod = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly BoundedText _output = new(OutputCapacity);
    private int _disposed;
    private int? _exitCodeAtDisposal;

    private ChildProcess(Process process, string fileName)
    {
        _process = process;
        FileName = fileName;
    }

    /// <summary>The program that was started.</summary>
    public string FileName { get; }

    /// <summary>The process id.</summary>
    public int Id { get; private set; }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => IsDisposed || _process.HasExited;

    /// <summary>The exit code, or <see langword="null"/> while the process runs.</summary>
    public int? ExitCode => IsDisposed ? _exitCodeAtDisposal : _process.HasExited ? _process.ExitCode : null;

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The most recent standard output and standard error lines (the last 64 K characters).</summary>
    public string Output => _output.ToString();

    /// <summary>
    /// Starts <paramref name="fileName"/> (a path, or a name looked up on PATH) with standard output and
    /// standard error captured, and <paramref name="environment"/> added to this process's environment.
    /// </summary>
    public static async Task<ChildProcess> StartAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        cancellationToken.ThrowIfCancellationRequested();

        var startInfo = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        if (OperatingSystem.IsLinux() && File.Exists(SetPrivPath))
        {
            startInfo.FileName = SetPrivPath;
            foreach (var argument in new[] { "--pdeathsig", "KILL", "--", fileName })
            {
                startInfo.ArgumentList.Add(argument);
            }
        }
        else
        {
            startInfo.FileName = fileName;
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(process, fileName);
        process.OutputDataReceived += (_, e) => child._output.AppendLine(e.Data);
        process.ErrorDataReceived += (_, e) => child._output.AppendLine(e.Data);
        try
        {
            await Spawner.StartAsync(process);
        }
        catch
        {
            process.Dispose();
            throw;
        }

        child.Id = process.Id;
        ProcessExitCleanup.Register(child);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until the process has exited and its output has been read.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) =>
        IsDisposed ? Task.CompletedTask : _process.WaitForExitAsync(cancellationToken);

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; returns whether it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var timeoutSource = new CancellationTokenSource(timeout);
        try
        {
            await WaitForExitAsync(timeoutSource.Token);
            return true;
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Kills the process with SIGKILL, by its PID, and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        KillNow();
        await WaitForExitAsync();
    }

    /// <summary>
    /// Stops the process by its PID: SIGTERM, then SIGKILL if it is still running after
    /// <paramref name="gracePeriod"/> (5 s by default). Waits for it to exit.
    /// </summary>
    public async Task StopAsync(TimeSpan? gracePeriod = null)
    {
        if (!HasExited)
        {
            Signal(SignalTerminate);
            if (await WaitForExitAsync(gracePeriod ?? s_defaultGracePeriod))
            {
                return;
            }
        }

        await KillAsync();
    }

    /// <summary>Stops the process (see <see cref="StopAsync"/>) and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsDisposed)
        {
            return;
        }

        try
        {
            await StopAsync();
        }
        finally
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _exitCodeAtDisposal = _process.HasExited ? _process.ExitCode : null;
                ProcessExitCleanup.Unregister(this);
                _process.Dispose();
            }
        }
    }

    /// <summary>Sends SIGKILL without waiting; used at process exit.</summary>
    internal void KillNow() => Signal(SignalKill);

    /// <summary>Finds an executable by name on PATH, as a shell would.</summary>
    internal static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate)
                && (OperatingSystem.IsWindows()
                    || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
            {
                return candidate;
            }
        }

        return null;
    }

    private void Signal(int signal)
    {
        // HasExited is false until the process has been reaped, so the PID cannot have been reused yet.
        if (HasExited)
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            _process.Kill();
            return;
        }

        _ = Kill(Id, signal);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Forks every child from one long-lived thread, so that its parent-death signal fires only when the test process ends.</summary>
    private static class Spawner
    {
        private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> s_requests = [];

        static Spawner()
        {
            var thread = new Thread(Run) { IsBackground = true, Name = "LlmGateway.Testing child process spawner" };
            thread.Start();
        }

        public static Task StartAsync(Process process)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            s_requests.Add((process, started));
            return started.Task;
        }

        [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The exception is handed to the caller's task.")]
        private static void Run()
        {
            foreach (var (process, started) in s_requests.GetConsumingEnumerable())
            {
                try
                {
                    process.Start();
                    started.SetResult();
                }
                catch (Exception exception)
                {
                    started.SetException(exception);
                }
            }
        }
    }
}
