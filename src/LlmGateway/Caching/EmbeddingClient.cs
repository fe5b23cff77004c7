using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using LlmGateway.Configuration;
using LlmGateway.Providers.Azure;
using LlmGateway.Routing;
using Microsoft.Extensions.Options;

namespace LlmGateway.Caching;

/// <summary>
/// Embeds final user turns for the semantic cache with the configured embeddings model, through the gateway's own
/// providers (any OpenAI-compatible <c>/v1/embeddings</c>). Texts waiting at the same time go out in one request
/// (up to <see cref="SemanticCacheOptions.MaxBatchSize"/>); a text being embedded is not sent twice; recent
/// embeddings are kept in this process. Vectors are returned with unit length.
/// </summary>
public sealed partial class EmbeddingClient : IDisposable
{
    // Batches in flight at once: batching needs a queue to form, but one slow batch must not hold up every request.
    private const int MaxConcurrentBatches = 4;

    private readonly SemanticCacheOptions _options;
    private readonly ModelCatalog _catalog;
    private readonly ILogger<EmbeddingClient> _logger;
    private readonly HttpClient _http;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<float[]>> _inFlight = new(StringComparer.Ordinal);
    private readonly RecentEmbeddings _recent;
    private readonly SemaphoreSlim _batches = new(MaxConcurrentBatches, MaxConcurrentBatches);
    private readonly CancellationTokenSource _stopping = new();
    private int _started;

    public EmbeddingClient(IOptions<GatewayOptions> options, ModelCatalog catalog, ILogger<EmbeddingClient> logger)
    {
        _options = options.Value.Cache.Semantic;
        _catalog = catalog;
        _logger = logger;
        _recent = new RecentEmbeddings(_options.EmbeddingCacheEntries);
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Embedding requests sent upstream (each may carry several texts).</summary>
    public long UpstreamRequests => Interlocked.Read(ref _upstreamRequests);

    private long _upstreamRequests;

    /// <summary>The unit-length embedding of <paramref name="text"/>.</summary>
    public Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken)
    {
        var key = KeyOf(text);
        if (_recent.TryGet(key, out var known))
        {
            return Task.FromResult(known);
        }

        EnsureStarted();
        var pending = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = _inFlight.GetOrAdd(key, pending);
        if (ReferenceEquals(inFlight, pending))
        {
            _queue.Writer.TryWrite(new Pending(key, text, pending));
        }

        return inFlight.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        _http.Dispose();
        _batches.Dispose();
        _stopping.Dispose();
    }

    private static string KeyOf(string text)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Convert.ToBase64String(hash);
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _started) == 0 && Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = Task.Run(SendBatchesAsync);
        }
    }

    private async Task SendBatchesAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                await _batches.WaitAsync(_stopping.Token);
                var batch = new List<Pending>(Math.Min(_options.MaxBatchSize, 8));
                while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                _ = SendAsync(batch);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(List<Pending> batch)
    {
        try
        {
            if (batch.Count == 0)
            {
                return;
            }

            var vectors = await RequestAsync(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                _recent.Add(batch[i].Key, vectors[i]);
                _inFlight.TryRemove(batch[i].Key, out _);
                batch[i].Completion.TrySetResult(vectors[i]);
            }
        }
#pragma warning disable CA1031 // Every waiting request learns of the failure; none is left hanging.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogEmbeddingFailed(_logger, batch.Count, exception.GetType().Name, exception.Message);
            foreach (var pending in batch)
            {
                _inFlight.TryRemove(pending.Key, out _);
                pending.Completion.TrySetException(exception);
            }
        }
        finally
        {
            _batches.Release();
        }
    }

    private async Task<float[][]> RequestAsync(List<Pending> batch)
    {
        var model = _options.EmbeddingModel ?? throw new InvalidOperationException("Gateway:Cache:Semantic:EmbeddingModel is not set.");
        var route = _catalog.Resolve(model) ?? throw new InvalidOperationException($"The embeddings model '{model}' is not in Gateway:Models.");
        var provider = route.Provider;
        var baseAddress = provider.BaseAddress ?? throw new InvalidOperationException($"Provider '{provider.Name}' has no address yet.");
        var uri = provider.Type == ProviderType.AzureOpenAI
            ? AzureOpenAiAddress.RequestUri(baseAddress, route.UpstreamModel, "embeddings", provider.ApiVersion!)
            : new Uri(baseAddress.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/embeddings");

        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(RequestBody(route.UpstreamModel, batch)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (provider.CredentialHeaderValue is { } credential)
        {
            request.Headers.TryAddWithoutValidation(provider.CredentialHeaderName, credential);
        }

        Interlocked.Increment(ref _upstreamRequests);
        using var timeout = new CancellationTokenSource(provider.ResponseTimeout < TimeSpan.FromSeconds(30) ? provider.ResponseTimeout : TimeSpan.FromSeconds(30));
        using var response = await _http.SendAsync(request, timeout.Token);
        if (!response.IsSuccessStatusCode)
        {
            // The body is not quoted: an upstream error may echo the request.
            throw new HttpRequestException($"The embeddings model '{model}' answered {(int)response.StatusCode}.", null, response.StatusCode);
        }

        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
        return ReadVectors(document.RootElement, batch.Count, model);
    }

    private static byte[] RequestBody(string upstreamModel, List<Pending> batch)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, upstreamModel);
            writer.WriteString("encoding_format"u8, "float"u8);
            writer.WriteStartArray("input"u8);
            foreach (var pending in batch)
            {
                writer.WriteStringValue(pending.Text);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static float[][] ReadVectors(JsonElement root, int count, string model)
    {
        var vectors = new float[count][];
        if (!root.TryGetProperty("data"u8, out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"The embeddings model '{model}' answered without a data array.");
        }

        var position = 0;
        foreach (var item in data.EnumerateArray())
        {
            var index = item.TryGetProperty("index"u8, out var indexElement) && indexElement.TryGetInt32(out var declared) ? declared : position;
            position++;
            if ((uint)index >= (uint)count || !item.TryGetProperty("embedding"u8, out var embedding) || embedding.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"The embeddings model '{model}' answered with a malformed data item.");
            }

            var vector = new float[embedding.GetArrayLength()];
            var i = 0;
            foreach (var value in embedding.EnumerateArray())
            {
                vector[i++] = value.GetSingle();
            }

            vectors[index] = Normalised(vector);
        }

        for (var i = 0; i < count; i++)
        {
            if (vectors[i] is null)
            {
                throw new InvalidDataException($"The embeddings model '{model}' returned {position} of {count} embeddings.");
            }
        }

        return vectors;
    }

    private static float[] Normalised(float[] vector)
    {
        var sum = 0.0;
        foreach (var value in vector)
        {
            sum += (double)value * value;
        }

        if (sum > 0)
        {
            var scale = (float)(1.0 / Math.Sqrt(sum));
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] *= scale;
            }
        }

        return vector;
    }

    private sealed record Pending(string Key, string Text, TaskCompletionSource<float[]> Completion);

    /// <summary>A bounded map of text hash to embedding; when full, the oldest half is forgotten.</summary>
    private sealed class RecentEmbeddings(int capacity)
    {
        private readonly Lock _lock = new();
        private Dictionary<string, float[]> _current = new(StringComparer.Ordinal);
        private Dictionary<string, float[]> _previous = new(StringComparer.Ordinal);

        public bool TryGet(string key, out float[] vector)
        {
            lock (_lock)
            {
                if (_current.TryGetValue(key, out vector!))
                {
                    return true;
                }

                if (_previous.TryGetValue(key, out vector!))
                {
                    AddLocked(key, vector);
                    return true;
                }
            }

            return false;
        }

        public void Add(string key, float[] vector)
        {
            if (capacity <= 0)
            {
                return;
            }

            lock (_lock)
            {
                AddLocked(key, vector);
            }
        }

        private void AddLocked(string key, float[] vector)
        {
            if (_current.Count >= Math.Max(1, capacity / 2))
            {
                _previous = _current;
                _current = new Dictionary<string, float[]>(StringComparer.Ordinal);
            }

            _current[key] = vector;
        }
    }

    [LoggerMessage(EventId = 611, Level = LogLevel.Warning, Message = "Embedding {Count} text(s) for the semantic cache failed ({ExceptionType}: {Reason}); those requests skip the semantic cache")]
    private static partial void LogEmbeddingFailed(ILogger logger, int count, string exceptionType, string reason);
}
