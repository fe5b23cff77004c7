using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;

namespace LlmGateway.Tests.Functional;

/// <summary>The files in deploy/ are checked by the tools that will read them.</summary>
public sealed class DeploymentFilesTests
{
    private static readonly string Deploy = Path.Combine(RepositoryRoot.Path, "deploy");

    [Fact]
    public async Task AlertRules_AreValid_AndTheirUnitTestsPass()
    {
        var prometheus = Path.Combine(Deploy, "prometheus");

        var check = await CommandLineTool.RunAsync("promtool", prometheus, null, "check", "rules", "alerts.yml");
        check.ExitCode.ShouldBe(0, check.Output);

        var test = await CommandLineTool.RunAsync("promtool", prometheus, null, "test", "rules", "alerts.test.yml");
        test.ExitCode.ShouldBe(0, test.Output);
        test.Output.ShouldContain("SUCCESS");
    }

    [Fact]
    public async Task PrometheusConfig_IsValid()
    {
        // promtool resolves rule_files relative to the config, so check a copy that points at the repo's rules.
        var directory = Directory.CreateTempSubdirectory("llmgw-prom-");
        try
        {
            var config = await File.ReadAllTextAsync(Path.Combine(Deploy, "prometheus", "prometheus.yml"), TestContext.Current.CancellationToken);
            var localConfig = Path.Combine(directory.FullName, "prometheus.yml");
            await File.WriteAllTextAsync(localConfig, config.Replace("/etc/prometheus/alerts.yml", Path.Combine(Deploy, "prometheus", "alerts.yml"), StringComparison.Ordinal), TestContext.Current.CancellationToken);

            var check = await CommandLineTool.RunAsync("promtool", directory.FullName, null, "check", "config", localConfig);
            check.ExitCode.ShouldBe(0, check.Output);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ComposeFile_Validates()
    {
        var result = await CommandLineTool.RunAsync("docker-compose", Deploy, null, "-f", "docker-compose.yml", "config", "--quiet");
        result.ExitCode.ShouldBe(0, result.Output);
    }
}
