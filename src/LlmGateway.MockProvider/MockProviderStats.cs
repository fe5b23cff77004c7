using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace LlmGateway.MockProvider;

/// <summary>
/// What the mock has been asked, so tests can assert on what a gateway forwarded (credentials swapped,
/// <c>traceparent</c> propagated, retries made). Counts provider API requests (<c>/v1/...</c>) only: reading or
/// resetting the stats is not counted.
/// </summary>
/// <remarks>
/// Recording is lock-free and costs one counter increment, one dictionary look-up and one array copy of the
/// request headers, so the mock can sit in benchmarks without distorting them.
/// </remarks>
public sealed class MockProviderStats
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _requestsByPath = new(StringComparer.Ordinal);
    private long _totalRequests;
    private long _cancelledRequests;
    private long _usageReports;
    private long _reportedPromptTokens;
    private long _reportedCompletionTokens;
    private RecordedRequest? _lastRequest;

    /// <summary>Provider API requests received since start or the last <see cref="Reset"/>.</summary>
    public long TotalRequests => Interlocked.Read(ref _totalRequests);

    /// <summary>
    /// Requests whose client went away before the answer was complete: shows that a proxy in front of the mock
    /// cancels upstream work when its own client disconnects.
    /// </summary>
    public long CancelledRequests => Interlocked.Read(ref _cancelledRequests);

    /// <summary>Chat completions whose usage the mock reported (in a JSON body or a stream's usage chunk).</summary>
    public long UsageReports => Interlocked.Read(ref _usageReports);

    /// <summary>The sum of <c>prompt_tokens</c> over every usage the mock reported: what a metering proxy should count.</summary>
    public long ReportedPromptTokens => Interlocked.Read(ref _reportedPromptTokens);

    /// <summary>The sum of <c>completion_tokens</c> over every usage the mock reported.</summary>
    public long ReportedCompletionTokens => Interlocked.Read(ref _reportedCompletionTokens);

    /// <summary>A snapshot of the request count per request path (e.g. <c>/v1/chat/completions</c>).</summary>
    public IReadOnlyDictionary<string, long> RequestsByPath
    {
        get
        {
            var snapshot = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (path, count) in _requestsByPath)
            {
                snapshot[path] = Volatile.Read(ref count.Value);
            }

            return snapshot;
        }
    }

    /// <summary>The HTTP method of the last request, or null before the first.</summary>
    public string? LastRequestMethod => Volatile.Read(ref _lastRequest)?.Method;

    /// <summary>The path of the last request, or null before the first.</summary>
    public string? LastRequestPath => Volatile.Read(ref _lastRequest)?.Path;

    /// <summary>
    /// Every header of the last request, names lower-cased (as HTTP/2 sends them) and looked up case-insensitively;
    /// a header sent several times has its values joined with commas. Empty before the first request.
    /// </summary>
    public IReadOnlyDictionary<string, string> LastRequestHeaders => ToDictionary(Volatile.Read(ref _lastRequest));

    /// <summary>The number of requests received for <paramref name="path"/>.</summary>
    public long GetRequestCount(string path) =>
        _requestsByPath.TryGetValue(path, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>Forgets everything recorded so far.</summary>
    public void Reset()
    {
        _requestsByPath.Clear();
        Volatile.Write(ref _lastRequest, null);
        Interlocked.Exchange(ref _totalRequests, 0);
        Interlocked.Exchange(ref _cancelledRequests, 0);
        Interlocked.Exchange(ref _usageReports, 0);
        Interlocked.Exchange(ref _reportedPromptTokens, 0);
        Interlocked.Exchange(ref _reportedCompletionTokens, 0);
    }

    internal void RecordUsageReported(long promptTokens, long completionTokens)
    {
        Interlocked.Increment(ref _usageReports);
        Interlocked.Add(ref _reportedPromptTokens, promptTokens);
        Interlocked.Add(ref _reportedCompletionTokens, completionTokens);
    }

    internal void RecordCancelled() => Interlocked.Increment(ref _cancelledRequests);

    /// <summary>Method, path and headers of one and the same request, for the stats endpoint.</summary>
    internal (string? Method, string? Path, IReadOnlyDictionary<string, string> Headers) GetLastRequest()
    {
        var last = Volatile.Read(ref _lastRequest);
        return (last?.Method, last?.Path, ToDictionary(last));
    }

    internal void Record(HttpRequest request)
    {
        Interlocked.Increment(ref _totalRequests);

        var path = request.Path.Value ?? "/";
        var count = _requestsByPath.GetOrAdd(path, static _ => new StrongBox<long>());
        Interlocked.Increment(ref count.Value);

        var headers = new KeyValuePair<string, string>[request.Headers.Count];
        var i = 0;
        foreach (var (name, values) in request.Headers)
        {
            if (i == headers.Length)
            {
                break;
            }

            headers[i++] = new(name.ToLowerInvariant(), values.ToString());
        }

        // One reference swap publishes method, path and headers together, so a reader never mixes two requests.
        Volatile.Write(ref _lastRequest, new RecordedRequest(request.Method, path, i == headers.Length ? headers : headers[..i]));
    }

    private static Dictionary<string, string> ToDictionary(RecordedRequest? request)
    {
        var headers = request?.Headers ?? [];
        var snapshot = new Dictionary<string, string>(headers.Length, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            snapshot[name] = value;
        }

        return snapshot;
    }

    private sealed record RecordedRequest(string Method, string Path, KeyValuePair<string, string>[] Headers);
}
