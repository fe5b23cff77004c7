using LlmGateway.Storage;
using LlmGateway.Testing;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>A real Redis 8 for one test class, and the gateway's own connection to it.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public RedisConnection Connection { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        // A generous command timeout: these tests check what the stores do, not how the gateway copes with a slow
        // Redis (RedisOutageTests does), and a busy CI machine can stall a command past the shipped 2 s.
        Connection = new RedisConnection(Server.ConnectionString + ",syncTimeout=15000");
    }

    public async ValueTask DisposeAsync()
    {
        Connection?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
