namespace LlmGateway.Testing;

/// <summary>Locates the root of the LlmGateway repository, where <c>.tools/</c> and <c>tests/infra/</c> live.</summary>
public static class RepositoryRoot
{
    /// <summary>Overrides the search, for test binaries run from outside the repository.</summary>
    public const string EnvironmentVariable = "LLMGATEWAY_REPO_ROOT";

    private static readonly string[] s_markers = ["LlmGateway.sln", "LlmGateway.slnx"];
    private static readonly Lazy<string> s_path = new(Find);

    /// <summary>
    /// The repository root: <see cref="EnvironmentVariable"/> if set, otherwise the nearest directory
    /// above <see cref="AppContext.BaseDirectory"/> that holds <c>LlmGateway.sln</c> (or <c>.slnx</c>).
    /// </summary>
    public static string Path => s_path.Value;

    private static string Find()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return System.IO.Path.GetFullPath(configured);
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (s_markers.Any(marker => File.Exists(System.IO.Path.Combine(directory.FullName, marker))))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Could not find the repository root: no directory above '{AppContext.BaseDirectory}' contains " +
            $"{string.Join(" or ", s_markers)}. Run the tests from within the repository, or set {EnvironmentVariable}.");
    }
}
