namespace LlmGateway.Admin;

/// <summary><c>Gateway:Admin</c>: the admin API. Without a key hash it is switched off.</summary>
public sealed record AdminOptions
{
    /// <summary>The admin key's hash, <c>sha256:</c> and 64 hex digits, as for virtual keys. Never the key itself.</summary>
    public string? KeyHash { get; init; }
}
