namespace LlmGateway.Providers;

/// <summary>
/// How the forwarder must address the upstream for this request when it differs from the client's request: the
/// path after the provider's base URL, an <c>api-version</c> query, and whether the response body is translated
/// (then <c>Content-Length</c> and compression do not survive).
/// </summary>
internal sealed class ProviderTranslationFeature
{
    /// <summary>Replaces the path sent upstream (relative to the provider's base URL), e.g. <c>/messages</c>.</summary>
    public string? UpstreamPath { get; init; }

    /// <summary>Azure's <c>api-version</c> query value.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Whether the response body is rewritten on its way back.</summary>
    public bool TranslatesResponse { get; init; }
}
