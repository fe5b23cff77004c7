using System.Net.Http.Headers;
using LlmGateway.Hosting;
using LlmGateway.Testing;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>
/// The gateway as a separate process (<c>dotnet LlmGateway.dll</c> from the test's output folder) on a free loopback
/// port, configured through command-line arguments, stopped by its PID. Several of these make replicas.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly DirectoryInfo _workingDirectory;

    private GatewayProcess(ChildProcess process, DirectoryInfo workingDirectory, Uri baseAddress)
    {
        _process = process;
        _workingDirectory = workingDirectory;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string Output => _process.Output;

    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var port = FreePort.Get();
        var arguments = new List<string> { Path.Combine(AppContext.BaseDirectory, "LlmGateway.dll"), "--urls", $"http://127.0.0.1:{port}" };
        foreach (var (key, value) in settings)
        {
            arguments.Add($"--{key}={value}");
        }

        arguments.Add("--Serilog:MinimumLevel:Default=Warning");

        // An empty working directory: only the given settings apply, not an appsettings.json lying around.
        var workingDirectory = Directory.CreateTempSubdirectory("llmgateway-replica-");
        // As deploy/Dockerfile runs it: socket completions, and the request code after them, on the runtime's event
        // threads (GatewayTransportExtensions). The in-process test servers keep the thread pool's scheduling.
        var environment = new Dictionary<string, string> { [GatewayTransportExtensions.InlineCompletionsVariable] = "1" };
        var process = await ChildProcess.StartAsync("dotnet", arguments, workingDirectory.FullName, environment: environment);
        var gateway = new GatewayProcess(process, workingDirectory, new Uri($"http://127.0.0.1:{port}/"));
        await gateway.WaitUntilReadyAsync();
        return gateway;
    }

    public HttpClient CreateHttpClient(string? key = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _workingDirectory.Delete(recursive: true);
    }

    private async Task WaitUntilReadyAsync()
    {
        using var client = CreateHttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The gateway process exited with {_process.ExitCode}:{Environment.NewLine}{_process.Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("readyz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"The gateway process did not become ready within 30 s:{Environment.NewLine}{_process.Output}");
    }
}
