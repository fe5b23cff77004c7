using LlmGateway.Storage;

namespace LlmGateway.Caching;

/// <summary>
/// Refuses to start a gateway whose semantic cache would live in a Redis without vector sets (before Redis 8.0):
/// every semantic lookup would fail, so the operator hears it once, at start-up, with what to do.
/// </summary>
internal sealed partial class CacheStartup(CachePolicies policies, SharedRedis shared, ILogger<CacheStartup> logger) : IHostedService
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!policies.AnySemantic || shared.Connection is not { } redis)
        {
            return;
        }

        await redis.ConnectAsync(s_connectTimeout, cancellationToken);
        if (!redis.IsConnected)
        {
            LogVectorSetsNotChecked(logger);
            return;
        }

        if (!await RedisSemanticIndex.SupportsVectorSetsAsync(redis))
        {
            throw new InvalidOperationException(
                "Gateway:Cache:Semantic:Enabled is true, but the Redis of ConnectionStrings:Redis has no vector sets " +
                "(VADD/VSIM, Redis 8.0 or later). Upgrade that Redis to 8.0 or later, or set Gateway:Cache:Semantic:Enabled to false.");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 650, Level = LogLevel.Warning, Message = "Redis did not answer at start-up, so whether it has vector sets (Redis 8.0+) for the semantic cache is unchecked; semantic lookups bypass the cache while they fail")]
    private static partial void LogVectorSetsNotChecked(ILogger logger);
}
