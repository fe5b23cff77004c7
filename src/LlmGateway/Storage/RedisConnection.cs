using System.Globalization;
using StackExchange.Redis;

namespace LlmGateway.Storage;

/// <summary>
/// The one Redis connection the gateway's shared stores use, from <c>ConnectionStrings:Redis</c>. It connects in the
/// background and reconnects by itself, so the gateway starts and serves while Redis is away.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    public const string ConnectionStringName = "Redis";

    private readonly Lazy<ConnectionMultiplexer> _multiplexer;
    private readonly RedisWriteCoalescer _writes;

    public RedisConnection(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        CommandTimeout = CommandTimeoutOf(connectionString);
        options.SyncTimeout = Math.Min(options.SyncTimeout, (int)CommandTimeout.TotalMilliseconds);
        _multiplexer = new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(options));
        _writes = new RedisWriteCoalescer(() => Database, CommandTimeout);
    }

    public IDatabase Database => _multiplexer.Value.GetDatabase();

    public bool IsConnected => _multiplexer.Value.IsConnected;

    /// <summary>The command timeout when the connection string gives no <c>syncTimeout</c>.</summary>
    public static TimeSpan DefaultCommandTimeout { get; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a command may take: the connection string's <c>syncTimeout</c> (milliseconds), else
    /// <see cref="DefaultCommandTimeout"/>. This client version has no timeout of its own for asynchronous commands,
    /// and a command issued while it reconnects can wait for the reconnection; past this it counts as Redis being down.
    /// </summary>
    public TimeSpan CommandTimeout { get; }

    /// <summary>
    /// The <c>syncTimeout</c> the connection string sets, or <see cref="DefaultCommandTimeout"/>. The client's own
    /// default (1 s) is not used, so that a gateway whose connection string says nothing keeps the documented 2 s.
    /// </summary>
    internal static TimeSpan CommandTimeoutOf(string connectionString)
    {
        foreach (var part in connectionString.Split(','))
        {
            var option = part.Trim();
            if (option.StartsWith("syncTimeout=", StringComparison.OrdinalIgnoreCase))
            {
                // ConfigurationOptions.Parse has already refused a value that is not a whole number.
                return TimeSpan.FromMilliseconds(int.Parse(option.AsSpan("syncTimeout=".Length), CultureInfo.InvariantCulture));
            }
        }

        return DefaultCommandTimeout;
    }

    /// <summary>
    /// Adds an error for a <c>ConnectionStrings:Redis</c> that the client cannot parse (it also refuses a
    /// <c>syncTimeout</c> under 1). The message never repeats the string, which may hold a password.
    /// </summary>
    internal static void Validate(string? connectionString, List<string> errors)
    {
        if (string.IsNullOrEmpty(connectionString))
        {
            return;
        }

        try
        {
            ConfigurationOptions.Parse(connectionString);
        }
#pragma warning disable CA1031 // The client throws several exception types for a bad string; each is reported the same way.
        catch (Exception)
#pragma warning restore CA1031
        {
            errors.Add($"ConnectionStrings:{ConnectionStringName} is not a Redis connection string the client can read: " +
                "expected host:port[,option=value...], with syncTimeout a positive number of milliseconds.");
        }
    }

    /// <summary>Runs a Lua script atomically, bounded by <see cref="CommandTimeout"/>.</summary>
    public Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values) =>
        Database.ScriptEvaluateAsync(script, keys, values).WaitAsync(CommandTimeout);

    /// <summary>
    /// Runs a write that no request waits for, usually in one command with the other writes queued at the same moment,
    /// each bounded by <see cref="CommandTimeout"/>. An error in the write's own script faults it with a
    /// <see cref="RedisWriteException"/>; a command that fails as a whole faults it with that command's exception.
    /// </summary>
    public Task WriteAsync(RedisWriteScript script, RedisKey[] keys, RedisValue[] values) => _writes.WriteAsync(script, keys, values);

    /// <summary>Whether an exception says Redis could not be reached or did not answer in time.</summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is RedisConnectionException or RedisTimeoutException or TimeoutException
        || (exception is RedisServerException server && server.Message.StartsWith("LOADING", StringComparison.Ordinal));

    /// <summary>Connects before the gateway takes traffic, so that its first requests do not meet a connection still opening.</summary>
    public async Task ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A monotonic clock: a wall-clock step during start-up must not cut the wait short or stretch it.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!IsConnected && waited.Elapsed < timeout)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    public void Dispose()
    {
        if (_multiplexer.IsValueCreated)
        {
            _multiplexer.Value.Dispose();
        }
    }
}
