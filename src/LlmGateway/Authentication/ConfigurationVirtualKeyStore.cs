using LlmGateway.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Authentication;

/// <summary>
/// Virtual keys declared under <c>Gateway:VirtualKeys</c>. Every replica reads the same configuration, so this
/// store is consistent across replicas without shared state.
/// </summary>
internal sealed class ConfigurationVirtualKeyStore : IVirtualKeyStore
{
    private readonly Dictionary<VirtualKeyHash, VirtualKey> _keys = [];

    public ConfigurationVirtualKeyStore(IOptions<GatewayOptions> options)
    {
        foreach (var (id, key) in options.Value.VirtualKeys)
        {
            if (VirtualKeyHash.TryParse(key.KeyHash, out var hash))
            {
                _keys[hash] = new VirtualKey(id, hash, key.Team, key.User, key.Project);
            }
        }
    }

    public bool HasKeys => _keys.Count > 0;

    public ValueTask<VirtualKey?> FindAsync(VirtualKeyHash hash, CancellationToken cancellationToken)
    {
        // The dictionary is keyed by the hash, not the key, so its lookup time says nothing about the secret;
        // the fixed-time comparison makes the final check explicit.
        var found = _keys.TryGetValue(hash, out var key) && key.Hash.FixedTimeEquals(hash) ? key : null;
        return ValueTask.FromResult(found);
    }
}
