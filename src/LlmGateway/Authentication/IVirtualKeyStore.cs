namespace LlmGateway.Authentication;

/// <summary>Looks up virtual keys by the hash of the key a client presented.</summary>
public interface IVirtualKeyStore
{
    /// <summary>Whether any key exists; a gateway with none serves loopback clients only.</summary>
    bool HasKeys { get; }

    ValueTask<VirtualKey?> FindAsync(VirtualKeyHash hash, CancellationToken cancellationToken);
}
