using LlmGateway.Caching;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGateway.Tests.Infrastructure;

public static class CacheWrites
{
    /// <summary>Waits until every answer the gateway decided to store in its cache has been written.</summary>
    public static async Task CacheWritesSettledAsync(this GatewayServer gateway)
    {
        var writer = gateway.Services.GetRequiredService<CacheWriter>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (writer.Pending > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        writer.Pending.ShouldBe(0);
    }
}
