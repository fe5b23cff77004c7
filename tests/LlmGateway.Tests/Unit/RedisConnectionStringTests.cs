using LlmGateway.Configuration;
using LlmGateway.Storage;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Unit;

/// <summary><c>ConnectionStrings:Redis</c>: its <c>syncTimeout</c> bounds every command; a bad string stops start-up.</summary>
public sealed class RedisConnectionStringTests
{
    [Fact]
    public void WithoutSyncTimeout_CommandsAreBoundedByTwoSeconds()
    {
        using var connection = new RedisConnection("127.0.0.1:6379");
        connection.CommandTimeout.ShouldBe(TimeSpan.FromSeconds(2));
    }

    [Theory]
    [InlineData("127.0.0.1:6379,syncTimeout=10000", 10_000)]
    [InlineData("127.0.0.1:6379, SyncTimeout=250 ,abortConnect=false", 250)]
    public void SyncTimeout_BoundsEveryCommand(string connectionString, int milliseconds)
    {
        using var connection = new RedisConnection(connectionString);
        connection.CommandTimeout.ShouldBe(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("127.0.0.1:6379,syncTimeout=0", "is not a Redis connection string")]
    [InlineData("127.0.0.1:6379,syncTimeout=-5", "is not a Redis connection string")]
    [InlineData("127.0.0.1:6379,syncTimeout=soon,password=hunter2-secret", "is not a Redis connection string")]
    [InlineData("127.0.0.1:6379,noSuchOption=1,password=hunter2-secret", "is not a Redis connection string")]
    public void ABadConnectionString_IsAStartUpError_ThatDoesNotRepeatIt(string connectionString, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = connectionString,
        }).Build();

        var errors = GatewayOptionsValidator.Collect(new GatewayOptions(), configuration);

        var error = errors.Where(e => e.StartsWith("ConnectionStrings:Redis", StringComparison.Ordinal)).ShouldHaveSingleItem();
        error.ShouldContain(expected);
        error.ShouldNotContain("hunter2");
        error.ShouldNotContain("6379");
    }
}
