using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace LlmGateway.Storage;

/// <summary>
/// Sends the writes that no request waits for in as few commands as it can, without making any of them wait for a
/// timer: one composed script is in flight at a time, and the writes that arrive meanwhile go out together in the
/// next one (a group commit). A request's settlement, give-backs and spend record are queued together as it ends, so
/// at low load they travel as one command, and under load many requests' writes share one.
/// </summary>
/// <remarks>
/// Each write runs in its own protected call: an error in one write's script is that write's alone, and the others
/// in the command still apply. A command that fails as a whole (Redis away, a timeout) fails each of its writes with
/// that exception, and each is retried by whoever issued it. Writes keep their own idempotence: the composition
/// adds none and takes none away.
/// </remarks>
internal sealed class RedisWriteCoalescer(Func<IDatabase> database, TimeSpan commandTimeout)
{
    /// <summary>Writes per command at most, so that one script stays short in Redis's single thread.</summary>
    internal const int MaxWritesPerCommand = 64;

    // KEYS and ARGV of the composed script: ARGV[1] = the number of writes; then three numbers per write (its function's
    // place in `writes`, how many keys it has, how many arguments); then every write's arguments, in order. KEYS are
    // every write's keys, in order. The script answers one string per write: empty when it succeeded, else the error.
    // Writes of one kind share a STATE table; their kind's finish, if any, runs after all the writes with it.
    private const string Dispatcher = """
        local function message(err)
          if type(err) == 'table' then return tostring(err.err or err[1] or 'error') end
          return tostring(err)
        end
        local results, places = {}, {}
        local count = tonumber(ARGV[1])
        local k, a = 0, 1 + 3 * count
        for i = 1, count do
          local header = 3 * i - 1
          local keyCount, argumentCount = tonumber(ARGV[header + 1]), tonumber(ARGV[header + 2])
          local keys, arguments = {}, {}
          for j = 1, keyCount do keys[j] = KEYS[k + j] end
          for j = 1, argumentCount do arguments[j] = ARGV[a + j] end
          k, a = k + keyCount, a + argumentCount
          local place = tonumber(ARGV[header])
          places[i] = place
          local ok, err = pcall(writes[place], keys, arguments, states[place])
          if ok then results[i] = '' else results[i] = message(err) end
        end
        for place, finish in pairs(finishes) do
          local ok, err = pcall(finish, states[place])
          if not ok then
            for i = 1, count do
              if places[i] == place and results[i] == '' then results[i] = message(err) end
            end
          end
        end
        return results
        """;

    private readonly ConcurrentQueue<PendingWrite> _queue = new();
    private readonly ConcurrentDictionary<ulong, ComposedScript> _scripts = new();
    private int _sending;

    /// <summary>Queues a write; the task completes when Redis has run it, or faults with why it did not run.</summary>
    public Task WriteAsync(RedisWriteScript script, RedisKey[] keys, RedisValue[] values)
    {
        var write = new PendingWrite(script, keys, values);
        _queue.Enqueue(write);
        if (Interlocked.Exchange(ref _sending, 1) == 0)
        {
            // Not inline: the writes that its caller queues next (the same request's other stages) join this command.
            ThreadPool.UnsafeQueueUserWorkItem(static self => _ = self.SendAllAsync(), this, preferLocal: false);
        }

        return write.Completion.Task;
    }

    private async Task SendAllAsync()
    {
        while (true)
        {
            while (!_queue.IsEmpty)
            {
                await SendOneCommandAsync();
            }

            Volatile.Write(ref _sending, 0);

            // A write queued between the last look and the line above found the flag still set and left it to us.
            if (_queue.IsEmpty || Interlocked.Exchange(ref _sending, 1) != 0)
            {
                return;
            }
        }
    }

    private async Task SendOneCommandAsync()
    {
        var writes = new List<PendingWrite>(Math.Min(_queue.Count, MaxWritesPerCommand));
        ulong kinds = 0;
        int keyCount = 0, valueCount = 0;
        while (writes.Count < MaxWritesPerCommand && _queue.TryDequeue(out var write))
        {
            writes.Add(write);
            kinds |= 1UL << write.Script.Id;
            keyCount += write.Keys.Length;
            valueCount += write.Values.Length;
        }

        var script = _scripts.GetOrAdd(kinds, static (_, first) => ComposedScript.For(first), writes);
        var keys = new RedisKey[keyCount];
        var values = new RedisValue[1 + 3 * writes.Count + valueCount];
        values[0] = writes.Count;
        int nextKey = 0, nextValue = 1 + 3 * writes.Count;
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            values[1 + 3 * i] = script.PlaceOf(write.Script);
            values[2 + 3 * i] = write.Keys.Length;
            values[3 + 3 * i] = write.Values.Length;
            write.Keys.CopyTo(keys, nextKey);
            write.Values.CopyTo(values, nextValue);
            nextKey += write.Keys.Length;
            nextValue += write.Values.Length;
        }

        RedisResult[] results;
        try
        {
            results = (RedisResult[])(await database().ScriptEvaluateAsync(script.Text, keys, values).WaitAsync(commandTimeout))!;
        }
#pragma warning disable CA1031 // Whatever failed the command is each write's failure, handed to whoever waits for it.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            foreach (var write in writes)
            {
                write.Completion.TrySetException(exception);
            }

            return;
        }

        for (var i = 0; i < writes.Count; i++)
        {
            var error = (string?)results[i];
            if (string.IsNullOrEmpty(error))
            {
                writes[i].Completion.TrySetResult();
            }
            else
            {
                writes[i].Completion.TrySetException(new RedisWriteException(writes[i].Script.Name, error));
            }
        }
    }

    private sealed record PendingWrite(RedisWriteScript Script, RedisKey[] Keys, RedisValue[] Values)
    {
        public TaskCompletionSource Completion { get; } = new();
    }

    /// <summary>
    /// The script for one set of kinds of write: each kind's body as a function, in the order of their ids, then the
    /// dispatcher. At most one per set of kinds, each sent once in full and then by its hash.
    /// </summary>
    private sealed class ComposedScript
    {
        private readonly int[] _places;

        private ComposedScript(string text, int[] places)
        {
            Text = text;
            _places = places;
        }

        public string Text { get; }

        public int PlaceOf(RedisWriteScript script) => _places[script.Id];

        public static ComposedScript For(List<PendingWrite> writes)
        {
            var kinds = new SortedDictionary<int, RedisWriteScript>();
            foreach (var write in writes)
            {
                kinds[write.Script.Id] = write.Script;
            }

            var places = new int[RedisWriteScript.MaxScripts];
            var text = new StringBuilder("local writes, finishes, states = {}, {}, {}\n");
            var place = 0;
            foreach (var kind in kinds.Values)
            {
                places[kind.Id] = ++place;
                text.Append(CultureInfo.InvariantCulture, $"-- {kind.Name}\nstates[{place}] = {{}}\nwrites[{place}] = function(KEYS, ARGV, STATE)\n{kind.Body}\nend\n");
                if (kind.Finish is { } finish)
                {
                    text.Append(CultureInfo.InvariantCulture, $"finishes[{place}] = function(STATE)\n{finish}\nend\n");
                }
            }

            return new ComposedScript(text.Append(Dispatcher).ToString(), places);
        }
    }
}
