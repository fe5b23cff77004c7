using BenchmarkDotNet.Attributes;
using LlmGateway.Authentication;
using LlmGateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace LlmGateway.Benchmarks;

/// <summary>Authentication's per-request work: find the presented key in the headers, hash it, look the hash up.</summary>
[MemoryDiagnoser]
public class VirtualKeyBenchmarks
{
    private const string PresentedKey = "sk-gw-bench-key-0500-7f3a9c2e41d84b6f";
    private readonly HeaderDictionary _headers = new() { ["Authorization"] = "Bearer " + PresentedKey };
    private ConfigurationVirtualKeyStore? _store;
    private VirtualKeyHash _hash;

    /// <summary>Keys configured: the lookup is by hash, so its cost should not grow with the number of keys.</summary>
    [Params(10, 10_000)]
    public int Keys { get; set; } = 10;

    [GlobalSetup]
    public void Setup()
    {
        var options = new GatewayOptions();
        for (var i = 0; i < Keys; i++)
        {
            var key = i == Keys / 2 ? PresentedKey : $"sk-gw-bench-key-{i:D4}-other";
            options.VirtualKeys[$"key-{i}"] = new VirtualKeyOptions { KeyHash = VirtualKeyHash.Compute(key).ToString(), Team = "bench" };
        }

        _store = new ConfigurationVirtualKeyStore(Options.Create(options));
        _hash = VirtualKeyHash.Compute(PresentedKey);
    }

    [Benchmark]
    public VirtualKeyHash ReadAndHashPresentedKey() =>
        VirtualKeyHash.Compute(VirtualKeyAuthenticationMiddleware.ReadPresentedKey(_headers));

    /// <summary>The configuration store answers synchronously, as the middleware's fast path expects.</summary>
    [Benchmark]
    public bool LookUpHash()
    {
        var lookup = _store!.FindAsync(_hash, CancellationToken.None);
        return lookup.IsCompletedSuccessfully ? lookup.Result is not null : throw new InvalidOperationException("expected a synchronous lookup");
    }
}
