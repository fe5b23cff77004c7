using System.Globalization;
using System.Net;
using System.Text.Json;

namespace LlmGateway.Testing;

/// <summary>
/// A real Prometheus that scrapes one target, for tests of the gateway's metrics and of dashboard queries:
/// a child process on a free port of 127.0.0.1 with a temporary configuration and storage, stopped by its
/// PID on dispose.
/// </summary>
/// <remarks>
/// Uses the <c>prometheus</c> on PATH, which <c>tests/infra/install-prometheus.sh</c> installs. A missing
/// install fails the test with a message that says how to install it; tests never skip.
/// </remarks>
public sealed class PrometheusServer : IAsyncDisposable
{
    /// <summary>The scrape job's name: queries select the target with <c>{job="gateway"}</c>.</summary>
    public const string JobName = "gateway";

    private const int StartAttempts = 5;
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_shutdownGracePeriod = TimeSpan.FromSeconds(10);

    private readonly ChildProcess _process;
    private readonly TemporaryDirectory _directory;
    private readonly HttpClient _http;
    private int _disposed;

    private PrometheusServer(ChildProcess process, TemporaryDirectory directory, HttpClient http, string scrapeTarget)
    {
        _process = process;
        _directory = directory;
        _http = http;
        ScrapeTarget = scrapeTarget;
    }

    /// <summary>The server's address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>The scraped target, <c>HOST:PORT</c>, as given to <see cref="StartAsync"/>.</summary>
    public string ScrapeTarget { get; }

    /// <summary>The PID of the Prometheus process.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Prometheus's recent log output, for diagnostics.</summary>
    public string Output => _process.Output;

    /// <summary>
    /// Starts Prometheus on a free loopback port, scraping <paramref name="scrapeTarget"/> (<c>127.0.0.1:PORT</c>)
    /// at <paramref name="metricsPath"/> every <paramref name="scrapeInterval"/> (1 s by default) under the job
    /// <see cref="JobName"/>, and waits until it is ready.
    /// </summary>
    /// <exception cref="InvalidOperationException">Prometheus is not installed, or it did not start.</exception>
    public static async Task<PrometheusServer> StartAsync(
        string scrapeTarget,
        string metricsPath = "/metrics",
        TimeSpan? scrapeInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scrapeTarget);
        ArgumentException.ThrowIfNullOrWhiteSpace(metricsPath);
        if (!metricsPath.StartsWith('/'))
        {
            throw new ArgumentException($"The metrics path must start with '/': '{metricsPath}'.", nameof(metricsPath));
        }

        var interval = scrapeInterval ?? TimeSpan.FromSeconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromMilliseconds(1), nameof(scrapeInterval));

        var executable = ChildProcess.FindOnPath("prometheus")
            ?? throw new InvalidOperationException(
                "Prometheus is not installed: 'prometheus' is not on PATH. Install it by running " +
                "'tests/infra/install-prometheus.sh' as root from the repository root.");

        var directory = TemporaryDirectory.Create("llmgateway-prometheus");
        try
        {
            var configFile = directory.Combine("prometheus.yml");
            await File.WriteAllTextAsync(configFile, RenderConfig(scrapeTarget, metricsPath, interval), cancellationToken);

            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.Get();
                var storage = directory.Combine(string.Create(CultureInfo.InvariantCulture, $"data-{attempt}"));
                var process = await ChildProcess.StartAsync(
                    executable,
                    [
                        $"--config.file={configFile}",
                        $"--storage.tsdb.path={storage}",
                        string.Create(CultureInfo.InvariantCulture, $"--web.listen-address=127.0.0.1:{port}"),
                    ],
                    directory.Path,
                    cancellationToken: cancellationToken);
                var http = CreateHttpClient(port);
                try
                {
                    await WaitUntilReadyAsync(process, http, configFile, cancellationToken);
                    return new PrometheusServer(process, directory, http, scrapeTarget);
                }
                catch (PortTakenException) when (attempt < StartAttempts)
                {
                    http.Dispose();
                    await process.StopAsync(s_shutdownGracePeriod);
                    await process.DisposeAsync();
                }
                catch
                {
                    http.Dispose();
                    await process.StopAsync(s_shutdownGracePeriod);
                    await process.DisposeAsync();
                    throw;
                }
            }
        }
        catch
        {
            directory.Delete();
            throw;
        }
    }

    /// <summary>Runs an instant query (<c>GET /api/v1/query</c>) and returns the response's JSON text.</summary>
    /// <exception cref="InvalidOperationException">Prometheus rejected the query; the message holds its answer.</exception>
    public async Task<string> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(promql);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        using var response = await _http.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(promql), UriKind.Relative), cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Prometheus answered the query '{promql}' with {(int)response.StatusCode} {response.StatusCode}: {body}");
        }

        return body;
    }

    /// <summary>
    /// Waits until Prometheus has scraped the target successfully at least <paramref name="count"/> times
    /// since it started, counted as <c>sum_over_time(up{job="gateway"}[1h])</c>.
    /// </summary>
    /// <remarks>
    /// Prometheus applies its configured targets on a fixed 5 s tick, so the first scrape comes about 5 s
    /// after start: allow a timeout of 5 s plus <paramref name="count"/> scrape intervals, with a margin.
    /// </remarks>
    /// <exception cref="TimeoutException">Fewer scrapes succeeded in time; the message holds the target's last error.</exception>
    public async Task WaitForScrapesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);

        var deadline = DateTime.UtcNow + timeout;
        var scrapes = 0;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Prometheus exited with code {_process.ExitCode}. Its output:\n{_process.Output}");
            }

            scrapes = ReadScalar(await QueryAsync($"sum_over_time(up{{job=\"{JobName}\"}}[1h])", cancellationToken));
            if (scrapes >= count)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(s_pollInterval, cancellationToken);
        }

        using var targets = await _http.GetAsync(new Uri("api/v1/targets?state=active", UriKind.Relative), cancellationToken);
        throw new TimeoutException(
            $"Prometheus scraped {ScrapeTarget} successfully {scrapes} time(s) in {timeout.TotalSeconds:0.#} s, not {count}. " +
            $"Its targets: {await targets.Content.ReadAsStringAsync(cancellationToken)}");
    }

    /// <summary>Stops Prometheus by its PID (SIGTERM, then SIGKILL) and deletes its configuration and storage.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _http.Dispose();
            await _process.StopAsync(s_shutdownGracePeriod);
            await _process.DisposeAsync();
        }
        finally
        {
            _directory.Delete();
        }
    }

    private static string RenderConfig(string scrapeTarget, string metricsPath, TimeSpan interval)
    {
        var duration = string.Create(CultureInfo.InvariantCulture, $"{(long)interval.TotalMilliseconds}ms");
        return $"""
            global:
              scrape_interval: {duration}
              scrape_timeout: {duration}
              evaluation_interval: {duration}
            scrape_configs:
              - job_name: {JobName}
                metrics_path: {YamlString(metricsPath)}
                static_configs:
                  - targets: [{YamlString(scrapeTarget)}]

            """;
    }

    private static string YamlString(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static HttpClient CreateHttpClient(int port) =>
        new(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")),
            Timeout = TimeSpan.FromSeconds(30),
        };

    private static async Task WaitUntilReadyAsync(ChildProcess process, HttpClient http, string configFile, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken);
                var output = process.Output;
                var message = $"Prometheus exited with code {process.ExitCode} before it was ready at {http.BaseAddress}. Its output:\n{output}";
                throw output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
                    ? new PortTakenException(message)
                    : new InvalidOperationException(message);
            }

            if (await IsReadyAsync(http, cancellationToken))
            {
                // Another server that took the port first would be ready too: make sure it is ours.
                if (await ServesConfigAsync(http, configFile, cancellationToken))
                {
                    return;
                }

                throw new PortTakenException($"Another process answered at {http.BaseAddress} before Prometheus (PID {process.Id}) could bind it.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"Prometheus (PID {process.Id}) was not ready at {http.BaseAddress} within {s_startTimeout.TotalSeconds:0} s. Its output:\n{process.Output}");
            }

            await Task.Delay(s_pollInterval, cancellationToken);
        }
    }

    private static async Task<bool> IsReadyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var probeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        probeTimeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            using var response = await http.GetAsync(new Uri("-/ready", UriKind.Relative), probeTimeout.Token);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task<bool> ServesConfigAsync(HttpClient http, string configFile, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri("api/v1/status/flags", UriKind.Relative), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }

        using var flags = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return flags.RootElement.TryGetProperty("data", out var data)
            && data.TryGetProperty("config.file", out var file)
            && file.GetString() == configFile;
    }

    /// <summary>The value of a one-series instant vector, or 0 when the vector is empty.</summary>
    private static int ReadScalar(string queryResponse)
    {
        using var document = JsonDocument.Parse(queryResponse);
        var result = document.RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0)
        {
            return 0;
        }

        var value = result[0].GetProperty("value")[1].GetString();
        return (int)double.Parse(value ?? "0", NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
