namespace LlmGateway.Providers.Azure;

/// <summary>
/// Azure OpenAI addresses a model by deployment, not by the body's <c>model</c>:
/// <c>{endpoint}/openai/deployments/{deployment}/{operation}?api-version={version}</c>, authenticated with an
/// <c>api-key</c> header (Azure OpenAI "REST API reference"). The gateway's upstream model name is the deployment.
/// </summary>
internal static class AzureOpenAiAddress
{
    /// <summary>The API version used when a provider names none: the GA data-plane version current at writing.</summary>
    public const string DefaultApiVersion = "2024-10-21";

    /// <summary>The header that carries the key (instead of <c>Authorization: Bearer</c>).</summary>
    public const string ApiKeyHeader = "api-key";

    /// <summary>The path of one call, relative to the resource endpoint: <c>/openai/deployments/{deployment}/{operation}</c>.</summary>
    public static string Path(string deployment, string operation) =>
        "/openai/deployments/" + Uri.EscapeDataString(deployment) + "/" + operation.Trim('/');

    /// <summary>
    /// The path and query for one call, relative to the resource endpoint (e.g. <c>https://contoso.openai.azure.com</c>).
    /// </summary>
    /// <param name="operation">The OpenAI path after <c>/v1</c>: <c>chat/completions</c>, <c>completions</c>, <c>embeddings</c>.</param>
    public static string PathAndQuery(string deployment, string operation, string apiVersion)
    {
        return Path(deployment, operation) + "?api-version=" + Uri.EscapeDataString(apiVersion);
    }

    /// <summary>The full request URI on the resource endpoint (any path on the endpoint is kept as a prefix).</summary>
    public static Uri RequestUri(Uri endpoint, string deployment, string operation, string apiVersion)
    {
        var baseText = endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri(baseText + PathAndQuery(deployment, operation, apiVersion), UriKind.Absolute);
    }
}
