namespace LlmGateway.Configuration;

internal static class DeploymentNaming
{
    /// <summary>A deployment's name: its configured <c>Name</c>, else <c>provider/upstream-model</c> (or just the provider when the model passes through).</summary>
    public static string NameOf(DeploymentOptions deployment, ModelOptions model) =>
        deployment.Name
        ?? ((deployment.UpstreamModel ?? model.UpstreamModel) is { } upstream ? $"{deployment.Provider}/{upstream}" : deployment.Provider);
}
