namespace LlmGateway.Caching;

/// <summary>
/// Stores answers off the request path, after the response. A failed write is logged, counted and dropped: an
/// answer not cached is only a later miss.
/// </summary>
public sealed partial class CacheWriter(CacheMetrics metrics, ILogger<CacheWriter> logger)
{
    private static readonly TimeSpan s_writeTimeout = TimeSpan.FromSeconds(5);

    private long _pending;

    /// <summary>Writes started and not finished.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public void Enqueue(Func<CancellationToken, ValueTask> write)
    {
        Interlocked.Increment(ref _pending);
        _ = RunAsync(write);
    }

    private async Task RunAsync(Func<CancellationToken, ValueTask> write)
    {
        try
        {
            using var timeout = new CancellationTokenSource(s_writeTimeout);
            await write(timeout.Token).AsTask().WaitAsync(timeout.Token);
        }
#pragma warning disable CA1031 // A cache write must never fail anything else.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            metrics.Error("store");
            LogStoreFailed(logger, exception.GetType().Name);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    [LoggerMessage(EventId = 612, Level = LogLevel.Warning, Message = "Storing an answer in the cache failed ({ExceptionType}); it was not cached")]
    private static partial void LogStoreFailed(ILogger logger, string exceptionType);
}
