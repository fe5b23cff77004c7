using System.Net;
using System.Text;
using LlmGateway.MockProvider;
using LlmGateway.Testing;
using LlmGateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Functional;

/// <summary>
/// The benchmark (tests/benchmarks/run.sh) is not part of the test command, so nothing else notices when a change to
/// the gateway's configuration or a scenario's files breaks a scenario. Each scenario folder's appsettings.json must
/// start a gateway, and the scenario's own request, with its own headers, must be answered 200.
/// </summary>
/// <remarks>
/// The upstream and the embeddings model are the mock provider here (the benchmark uses a fixed-response nginx for
/// some scenarios). A scenario's Redis (<c>REDIS=1</c>) and OTLP export (<c>OTLP=1</c>) are left out: they are
/// command-line overrides in the harness, and the same appsettings.json runs here with the in-process stores.
/// </remarks>
public sealed class BenchmarkScenarioTests
{
    private const string UpstreamApiKey = "sk-bench-upstream";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string BenchmarksFolder => Path.Combine(RepositoryRoot.Path, "tests", "benchmarks");

    public static TheoryData<string> Scenarios()
    {
        var names = new TheoryData<string>();
        foreach (var folder in Directory.GetDirectories(Path.Combine(BenchmarksFolder, "scenarios")).Order(StringComparer.Ordinal))
        {
            names.Add(Path.GetFileName(folder));
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task EveryScenario_StartsTheGateway_AndItsRequestIsAnswered(string scenario)
    {
        var folder = Path.Combine(BenchmarksFolder, "scenarios", scenario);
        var env = ReadScenarioEnv(Path.Combine(folder, "scenario.env"));
        await using var upstream = await MockProviderServer.StartAsync(new MockProviderOptions { RequiredApiKey = UpstreamApiKey }, Cancel);

        var settings = new ConfigurationBuilder().AddJsonFile(Path.Combine(folder, "appsettings.json")).Build()
            .AsEnumerable().Where(pair => pair.Value is not null).ToDictionary(pair => pair.Key, pair => pair.Value);

        // The scenarios name their upstream through environment variables, which the gateway reads from its
        // configuration (where the harness's environment lands).
        settings["BENCH_UPSTREAM_URL"] = new Uri(upstream.BaseAddress, "v1").ToString();
        settings["BENCH_MOCK_URL"] = new Uri(upstream.BaseAddress, "v1").ToString();
        settings["BENCH_UPSTREAM_API_KEY"] = UpstreamApiKey;
        await using var gateway = await GatewayServer.StartAsync(settings);
        using var client = gateway.CreateHttpClient();

        foreach (var file in new[] { env.GetValueOrDefault("SEED_REQUEST"), env["REQUEST"] })
        {
            if (string.IsNullOrEmpty(file))
            {
                continue;
            }

            var body = File.ReadAllText(Path.Combine(BenchmarksFolder, "requests", file)).Replace("__UNIQUE__", "test-1", StringComparison.Ordinal);
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            foreach (var header in (env.GetValueOrDefault("HEADERS") ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = header.IndexOf(':', StringComparison.Ordinal);
                request.Headers.TryAddWithoutValidation(header[..colon].Trim(), header[(colon + 1)..].Trim());
            }

            using var response = await client.SendAsync(request, Cancel);
            var text = await response.Content.ReadAsStringAsync(Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, $"{scenario}: {file}: {text}");
            text.ShouldContain(env["KIND"] == "ttfb" ? "[DONE]" : "\"choices\"", Case.Sensitive, $"{scenario}: {file}");
        }
    }

    /// <summary>The shell assignments of a scenario.env (NAME=value or NAME="value"); comments and blank lines skipped.</summary>
    private static Dictionary<string, string> ReadScenarioEnv(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path))
        {
            var trimmed = line.Trim();
            var equals = trimmed.IndexOf('=', StringComparison.Ordinal);
            if (trimmed.Length == 0 || trimmed.StartsWith('#') || equals <= 0)
            {
                continue;
            }

            var value = trimmed[(equals + 1)..];
            var comment = value.StartsWith('"') ? -1 : value.IndexOf(" #", StringComparison.Ordinal);
            value = (comment >= 0 ? value[..comment] : value).Trim().Trim('"');
            values[trimmed[..equals]] = value;
        }

        return values;
    }
}
