namespace LlmGateway.Storage;

/// <summary>
/// A write that no request waits for (a settlement, a give-back, a spend record): a Lua script body that reads its
/// keys and arguments from <c>KEYS</c> and <c>ARGV</c>, as a script of its own would. <see cref="RedisConnection.WriteAsync"/>
/// runs it, usually in one script with other writes waiting at the same moment (see <see cref="RedisWriteCoalescer"/>).
/// </summary>
/// <remarks>
/// Writes of one kind that travel together may share work: each body also gets <c>STATE</c>, a Lua table that all
/// writes of its kind in the command share, and the optional <see cref="Finish"/> body runs once after them with that
/// table (for example, to add up many records' counters and write each sum once). A write whose body succeeded fails
/// if its kind's finish fails.
/// </remarks>
public sealed class RedisWriteScript
{
    /// <summary>At most this many kinds of write exist in a process: the coalescer keys its composed scripts by a 64-bit set.</summary>
    public const int MaxScripts = 64;

    private static int s_created;

    public RedisWriteScript(string name, string body, string? finish = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(body);
        Id = Interlocked.Increment(ref s_created) - 1;
        if (Id >= MaxScripts)
        {
            throw new InvalidOperationException($"More than {MaxScripts} kinds of Redis write were created; '{name}' is one too many.");
        }

        Name = name;
        Body = body;
        Finish = finish;
    }

    /// <summary>What the write is, for errors and logs.</summary>
    public string Name { get; }

    /// <summary>The Lua code, run as a function whose parameters are named <c>KEYS</c>, <c>ARGV</c> and <c>STATE</c>.</summary>
    public string Body { get; }

    /// <summary>Lua code run once per command after every write of this kind in it, as a function of <c>STATE</c>; or null.</summary>
    public string? Finish { get; }

    /// <summary>This kind's place in a composed script: composed scripts list their writes in this order.</summary>
    internal int Id { get; }
}

/// <summary>A write's own script failed in Redis; the writes sent beside it are not affected.</summary>
public sealed class RedisWriteException(string write, string error)
    : Exception($"Redis write '{write}' failed: {error}")
{
    public string Write { get; } = write;

    public string Error { get; } = error;
}
