using System.Threading.Channels;
using LlmGateway.Storage;

namespace LlmGateway.Metering;

/// <summary>
/// Writes records and settles budgets off the request path, after the response. A write that fails because Redis
/// is away waits in memory and is retried until Redis is back; the writes are idempotent, so a retry never counts twice.
/// </summary>
public sealed partial class MeteringWriter(ILogger<MeteringWriter> logger, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan s_firstRetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_drainOnStop = TimeSpan.FromSeconds(5);

    // Writes in flight at once: enough to keep up with a busy gateway over one Redis round trip each.
    private const int MaxConcurrentWrites = 64;

    private readonly SemaphoreSlim _inFlight = new(MaxConcurrentWrites, MaxConcurrentWrites);

    private readonly Channel<Func<CancellationToken, ValueTask>> _work =
        Channel.CreateUnbounded<Func<CancellationToken, ValueTask>>(new UnboundedChannelOptions { SingleReader = true });

    private long _pending;

    /// <summary>Writes queued or waiting for Redis.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public void Enqueue(Func<CancellationToken, ValueTask> work)
    {
        Interlocked.Increment(ref _pending);
        if (!_work.Writer.TryWrite(work))
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _work.Reader.WaitToReadAsync(stoppingToken))
            {
                while (_work.Reader.TryRead(out var work))
                {
                    await _inFlight.WaitAsync(stoppingToken);
                    _ = RunAndReleaseAsync(work, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await DrainAsync();
        }
    }

    private async Task RunAndReleaseAsync(Func<CancellationToken, ValueTask> work, CancellationToken stoppingToken)
    {
        try
        {
            await RunUntilDoneAsync(work, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Interlocked.Decrement(ref _pending);
            LogLostOnStop(logger, Pending, nameof(OperationCanceledException));
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task RunUntilDoneAsync(Func<CancellationToken, ValueTask> work, CancellationToken stoppingToken)
    {
        var delay = s_firstRetryDelay;
        while (true)
        {
            try
            {
                await work(stoppingToken);
                Interlocked.Decrement(ref _pending);
                return;
            }
            catch (Exception exception) when (RedisConnection.IsUnavailable(exception))
            {
                LogWriteDeferred(logger, Pending, exception.GetType().Name);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxRetryDelay.Ticks));
            }
#pragma warning disable CA1031 // One bad write must not stop metering for every later request.
            catch (Exception exception) when (exception is not OperationCanceledException)
#pragma warning restore CA1031
            {
                Interlocked.Decrement(ref _pending);
                LogWriteFailed(logger, exception);
                return;
            }
        }
    }

    private async Task DrainAsync()
    {
        using var deadline = new CancellationTokenSource(s_drainOnStop);
        while (_work.Reader.TryRead(out var work))
        {
            try
            {
                await work(deadline.Token);
            }
#pragma warning disable CA1031 // Shutting down: report what was lost, do not throw.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                LogLostOnStop(logger, Pending, exception.GetType().Name);
                return;
            }
        }
    }

    [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "Metering store unavailable ({ExceptionType}); {Pending} write(s) wait in memory and will be retried")]
    private static partial void LogWriteDeferred(ILogger logger, long pending, string exceptionType);

    [LoggerMessage(EventId = 511, Level = LogLevel.Error, Message = "A metering write failed and was dropped")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 512, Level = LogLevel.Error, Message = "Stopping with {Pending} metering write(s) not done ({ExceptionType})")]
    private static partial void LogLostOnStop(ILogger logger, long pending, string exceptionType);
}
