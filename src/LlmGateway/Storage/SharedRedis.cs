namespace LlmGateway.Storage;

/// <summary>
/// The gateway's Redis, if <c>ConnectionStrings:Redis</c> is set: read when first needed (not while services are
/// registered), so configuration added late by a host builder is honoured too.
/// </summary>
public sealed class SharedRedis(IConfiguration configuration) : IDisposable
{
    private readonly Lazy<RedisConnection?> _connection = new(() =>
        configuration.GetConnectionString(RedisConnection.ConnectionStringName) is { Length: > 0 } connectionString
            ? new RedisConnection(connectionString)
            : null);

    /// <summary>The connection, or null when the gateway runs without Redis.</summary>
    public RedisConnection? Connection => _connection.Value;

    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value?.Dispose();
        }
    }
}
