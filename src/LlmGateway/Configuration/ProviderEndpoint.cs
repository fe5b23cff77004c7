namespace LlmGateway.Configuration;

internal static class ProviderEndpoint
{
    /// <summary>
    /// The base URL in force: the named environment variable when it is set, else <see cref="ProviderOptions.BaseUrl"/>.
    /// Environment variables are read through configuration, which the host fills from the environment.
    /// </summary>
    public static string? EffectiveBaseUrl(ProviderOptions provider, IConfiguration configuration)
    {
        if (provider.BaseUrlEnvironmentVariable is { Length: > 0 } variable && configuration[variable] is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        return provider.BaseUrl;
    }
}
