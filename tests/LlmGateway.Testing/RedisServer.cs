using System.Globalization;
using System.Net.Sockets;

namespace LlmGateway.Testing;

/// <summary>
/// A real Redis 8 server (with vector sets) for one test or fixture: a child process on a free port of
/// 127.0.0.1, without persistence, stopped by its PID on dispose.
/// </summary>
/// <remarks>
/// Uses the Redis 8 that <c>tests/infra/install-redis8.sh</c> installs into <c>.tools/redis8</c>. A missing
/// install fails the test with a message that says how to install it; tests never skip.
/// </remarks>
public sealed class RedisServer : IAsyncDisposable
{
    private const int StartAttempts = 5;
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_probeInterval = TimeSpan.FromMilliseconds(50);

    private readonly string _executable;
    private readonly TemporaryDirectory _directory;
    private ChildProcess _process;
    private int _disposed;

    private RedisServer(string executable, TemporaryDirectory directory, ChildProcess process, int port)
    {
        _executable = executable;
        _directory = directory;
        _process = process;
        Port = port;
    }

    /// <summary>The port on 127.0.0.1 the server listens on; it stays the same across <see cref="RestartAsync"/>.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>, the form Redis clients take.</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>The PID of the running server process.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The server's recent standard output (its log), for diagnostics.</summary>
    public string Output => _process.Output;

    /// <summary>The wrapper <c>tests/infra/install-redis8.sh</c> installs: <c>.tools/redis8/bin/redis-server</c>.</summary>
    public static string ExecutablePath => Path.Combine(RepositoryRoot.Path, ".tools", "redis8", "bin", "redis-server");

    /// <summary>
    /// Debian bookworm's Redis 7.0, which <c>tests/infra/install-redis7.sh</c> installs into <c>.tools/redis7</c>: a
    /// Redis without vector sets, for the tests of what the gateway does when it meets one.
    /// </summary>
    public static string Redis7ExecutablePath => Path.Combine(RepositoryRoot.Path, ".tools", "redis7", "bin", "redis-server");

    /// <summary>Starts a Redis 8 server on a free port and waits until it answers PING.</summary>
    /// <exception cref="InvalidOperationException">Redis 8 is not installed, or the server did not start.</exception>
    public static Task<RedisServer> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(ExecutablePath, "tests/infra/install-redis8.sh", cancellationToken);

    /// <summary>Starts a Redis 7 server (no vector sets) on a free port and waits until it answers PING.</summary>
    public static Task<RedisServer> StartRedis7Async(CancellationToken cancellationToken = default) =>
        StartAsync(Redis7ExecutablePath, "tests/infra/install-redis7.sh", cancellationToken);

    private static async Task<RedisServer> StartAsync(string executable, string installer, CancellationToken cancellationToken)
    {
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"Redis is not installed: '{executable}' does not exist. Install it by running '{installer}' as root from the repository root.");
        }

        var directory = TemporaryDirectory.Create("llmgateway-redis");
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.Get();
                var process = await LaunchAsync(executable, directory, port, cancellationToken);
                try
                {
                    await WaitUntilReadyAsync(process, port, cancellationToken);
                    return new RedisServer(executable, directory, process, port);
                }
                catch (PortTakenException) when (attempt < StartAttempts)
                {
                    await process.DisposeAsync();
                }
                catch
                {
                    await process.DisposeAsync();
                    throw;
                }
            }
        }
        catch
        {
            directory.Delete();
            throw;
        }
    }

    /// <summary>Sends one command and returns the raw RESP reply, e.g. <c>"+OK\r\n"</c> for FLUSHALL.</summary>
    public Task<string> ExecuteAsync(params string[] arguments) => ExecuteAsync(arguments, CancellationToken.None);

    /// <summary>Sends one command and returns the raw RESP reply, e.g. <c>"+OK\r\n"</c> for FLUSHALL.</summary>
    public Task<string> ExecuteAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentOutOfRangeException.ThrowIfZero(arguments.Count);
        return ExecuteAsync(Port, arguments, s_commandTimeout, cancellationToken);
    }

    /// <summary>Kills the server with SIGKILL (by PID) and waits for it to die, as a crash would.</summary>
    public Task KillAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _process.KillAsync();
    }

    /// <summary>Stops the server if it still runs, then starts it again on the same port, empty.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _process.DisposeAsync();

        // The port was ours until a moment ago; a bind failure can only be another process racing for it.
        for (var attempt = 1; ; attempt++)
        {
            _process = await LaunchAsync(_executable, _directory, Port, cancellationToken);
            try
            {
                await WaitUntilReadyAsync(_process, Port, cancellationToken);
                return;
            }
            catch (PortTakenException) when (attempt < StartAttempts)
            {
                await _process.DisposeAsync();
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
            catch
            {
                await _process.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Stops the server by its PID (SIGTERM, then SIGKILL) and deletes its working directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _process.DisposeAsync();
        }
        finally
        {
            _directory.Delete();
        }
    }

    private static Task<ChildProcess> LaunchAsync(string executable, TemporaryDirectory directory, int port, CancellationToken cancellationToken) =>
        ChildProcess.StartAsync(
            executable,
            [
                "--port", port.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
                "--dir", directory.Path,
            ],
            directory.Path,
            cancellationToken: cancellationToken);

    private static async Task WaitUntilReadyAsync(ChildProcess process, int port, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken);
                var output = process.Output;
                var message = $"redis-server exited with code {process.ExitCode} before answering PING on port {port}. Its output:\n{output}";
                throw output.Contains("Address already in use", StringComparison.Ordinal)
                    ? new PortTakenException(message)
                    : new InvalidOperationException(message);
            }

            if (await AnswersPingAsync(port, cancellationToken))
            {
                // Another server that took the port first would answer too: make sure it is ours.
                var info = await ExecuteAsync(port, ["INFO", "server"], s_probeTimeout, cancellationToken);
                if (info.Contains(string.Create(CultureInfo.InvariantCulture, $"process_id:{process.Id}\r\n"), StringComparison.Ordinal))
                {
                    return;
                }

                throw new PortTakenException($"Another process answered on port {port} before redis-server (PID {process.Id}) could bind it.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"redis-server (PID {process.Id}) did not answer PING on port {port} within {s_startTimeout.TotalSeconds:0} s. Its output:\n{process.Output}");
            }

            await Task.Delay(s_probeInterval, cancellationToken);
        }
    }

    private static async Task<bool> AnswersPingAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            return await ExecuteAsync(port, ["PING"], s_probeTimeout, cancellationToken) == "+PONG\r\n";
        }
        catch (Exception exception) when (exception is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }

    private static async Task<string> ExecuteAsync(int port, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var connection = await RespConnection.ConnectAsync(port, timeoutSource.Token);
            return await connection.ExecuteAsync(arguments, timeoutSource.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Redis on port {port} did not answer {arguments[0]} within {timeout.TotalSeconds:0.#} s.");
        }
    }
}
