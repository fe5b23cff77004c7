namespace LlmGateway.Storage;

/// <summary>
/// Opens the Redis connection while the gateway starts (before Kestrel listens). If Redis is not there yet the
/// gateway starts anyway, after a few seconds, and the stores follow <c>Gateway:Metering:RedisFailureMode</c>.
/// </summary>
internal sealed partial class RedisStartup(SharedRedis shared, ILogger<RedisStartup> logger) : IHostedService
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (shared.Connection is not { } redis)
        {
            return;
        }

        await redis.ConnectAsync(s_connectTimeout, cancellationToken);
        if (!redis.IsConnected)
        {
            LogNotConnected(logger, s_connectTimeout.TotalSeconds);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 540, Level = LogLevel.Warning, Message = "Redis (ConnectionStrings:Redis) did not answer within {Seconds} s; starting anyway, it will keep reconnecting")]
    private static partial void LogNotConnected(ILogger logger, double seconds);
}
