using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using LlmGateway.Caching;

namespace LlmGateway.Benchmarks;

/// <summary>
/// The in-process answer store at its bound, as under load where every request is a new miss: a Set of a new
/// answer (which evicts) and a Get that hits. <c>Previous</c> is the object-per-answer design, <c>Arena</c> the
/// byte-arena store. 1 KiB answers under 64-hex-digit keys, the store filled three times over its 64 MiB bound first.
/// </summary>
[MemoryDiagnoser]
public class ResponseCacheStoreBenchmarks
{
    private const long Bound = 64L * 1024 * 1024;
    private const int HotKeys = 1024;
    private static readonly TimeSpan Ttl = TimeSpan.FromHours(1);

    private IResponseCacheStore _store = null!;
    private string[] _keys = [];
    private CachedResponse _answer = null!;
    private int _next;

    public enum Design
    {
        Previous,
        Arena,
    }

    [Params(Design.Previous, Design.Arena)]
    public Design Store { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _store = Store == Design.Previous
            ? new PreviousInMemoryResponseCacheStore(TimeProvider.System, Bound)
            : new InMemoryResponseCacheStore(TimeProvider.System, Bound);
        var body = new byte[1024];
        Random.Shared.NextBytes(body);
        _answer = new CachedResponse(CachedResponseKind.Json, "application/json", body, DateTimeOffset.UtcNow);

        // Enough distinct keys that a key comes round again only long after it was evicted: every Set is a new answer.
        _keys = new string[(int)(3 * Bound / body.Length)];
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i] = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));
        }

        foreach (var key in _keys)
        {
            await _store.SetAsync(key, _answer, Ttl, CancellationToken.None);
        }

        // The answers Get reads are the last ones set, so they are in the store.
        _next = 0;
    }

    [Benchmark]
    public ValueTask SetAtBound()
    {
        var key = _keys[_next];
        _next = _next + 1 == _keys.Length ? 0 : _next + 1;
        return _store.SetAsync(key, _answer, Ttl, CancellationToken.None);
    }

    [Benchmark]
    public async ValueTask<int> GetHit()
    {
        var key = _keys[_keys.Length - 1 - _next];
        _next = _next + 1 == HotKeys ? 0 : _next + 1;
        var answer = await _store.GetAsync(key, CancellationToken.None) ?? throw new InvalidOperationException("the hot answers must be in the store");
        return answer.Body.Length;
    }
}
