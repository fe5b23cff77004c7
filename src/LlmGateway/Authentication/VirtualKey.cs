namespace LlmGateway.Authentication;

/// <summary>A client of the gateway, identified by the virtual key it presented, and the owner it is billed to.</summary>
public sealed record VirtualKey(string Id, VirtualKeyHash Hash, string? Team, string? User, string? Project);

/// <summary>Who is calling: set by authentication, read by every later stage (metering, caching scope, logs).</summary>
public sealed class ClientIdentityFeature(VirtualKey key)
{
    /// <summary>The identity of loopback clients when the gateway has no virtual keys configured.</summary>
    public static readonly VirtualKey LocalAnonymous = new("local", default, null, null, null);

    public VirtualKey Key { get; } = key;
}
