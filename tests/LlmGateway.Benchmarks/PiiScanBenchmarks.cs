using System.Buffers;
using BenchmarkDotNet.Attributes;
using LlmGateway.Guardrails;
using LlmGateway.Guardrails.Detection;
using LlmGateway.Guardrails.Streaming;

namespace LlmGateway.Benchmarks;

/// <summary>
/// What a PII guard (every entity kind, action redact) costs. On a prompt: one scan of a 1.6 KB support request
/// whose numbers (versions, dates, order ids, amounts, a build number, a port) are not personal data, and of the same
/// request with an e-mail address, a phone number and a card number in it, plus the redaction the guard then applies.
/// On a streamed answer, per chunk (BenchmarkDotNet divides by the stream's chunks): the output guard rewriting every
/// <c>chat.completion.chunk</c> of a 100-token answer, holding back a window of text so that a value split across
/// chunks is still found.
/// </summary>
[MemoryDiagnoser]
public class PiiScanBenchmarks
{
    internal const string CleanPrompt =
        "Hi team, since upgrading the gateway from version 2.3.1 to 2.4.0 on 2026-11-03, about one request in 40 to our "
        + "EU deployment fails with status 502 after exactly 30 seconds. Order ids in the failing batch run from "
        + "ORD-2026-118400 to ORD-2026-118950, and the retry budget (3 attempts, 250 ms apart) is always used up. "
        + "The upstream pool is set to 64 connections per host on port 8443, keep-alive 90 s, and the load balancer's "
        + "idle timeout is 60 s, which I suspect is the real problem: a pooled connection older than 60 s is closed by "
        + "the balancer, and the first request on it fails. Build 10.0.19041 of the host OS, kernel 6.1.0-28. "
        + "Traffic is about 1,200 requests per minute at peak, 35% of them streamed, median prompt 1,850 tokens, "
        + "and the monthly bill went from $4,210.55 to $4,980.10, which finance flagged on the 14th. "
        + "Could you explain, step by step, how to confirm the idle-timeout theory from the gateway's own metrics, "
        + "which settings to change first (pool lifetime, keep-alive, or the balancer), and what a safe rollout looks "
        + "like for 12 services across 3 regions? Please also say whether the 30 s figure could instead come from the "
        + "resilience stage's attempt timeout, and how the two cases differ in the traces. A short checklist at the end "
        + "would help; we review it in tomorrow's 09:30 incident meeting. Thanks a lot for looking into this so quickly.";

    // The same prompt with a card number, an e-mail address and a phone number written in.
    private static readonly string PromptWithPii = CleanPrompt
        .Replace("the monthly bill went", "the monthly bill (paid with the team card 4532 0151 1283 0366) went", StringComparison.Ordinal)
        .Replace("A short checklist at the end would help; we review",
            "Reply to marta.kowalczyk@example.com or call me on +44 20 7946 0958; we review", StringComparison.Ordinal);

    private readonly List<TextMatch> _matches = [];
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private readonly PiiGuard _guard = new("pii", new GuardOptions { Type = GuardType.Pii, Action = GuardAction.Redact });
    private ReadOnlyMemory<byte>[] _chunks = [];

    [GlobalSetup]
    public void Setup()
    {
        // Every chunk's data except [DONE], which the streaming observer never hands to the guard.
        var events = StreamedAnswers.OpenAiChat();
        _chunks = new ReadOnlyMemory<byte>[events.Length - 1];
        for (var i = 0; i < _chunks.Length; i++)
        {
            _chunks[i] = StreamedAnswers.DataOf(events[i]);
        }

        if (ScanPrompt() != 0 || ScanPromptWithPii() != 3 || StreamedAnswer() is not null)
        {
            throw new InvalidOperationException("the clean texts must have no match and the other prompt exactly three");
        }
    }

    [Benchmark(Baseline = true)]
    public int ScanPrompt()
    {
        _matches.Clear();
        PiiScanner.Scan(CleanPrompt, PiiEntities.All, _matches);
        return _matches.Count;
    }

    [Benchmark]
    public int ScanPromptWithPii()
    {
        _matches.Clear();
        PiiScanner.Scan(PromptWithPii, PiiEntities.All, _matches);
        return _matches.Count;
    }

    [Benchmark]
    public string ScanAndRedactPromptWithPii()
    {
        _matches.Clear();
        PiiScanner.Scan(PromptWithPii, PiiEntities.All, _matches);
        Redactor.Normalize(_matches);
        return Redactor.Apply(PromptWithPii, _matches, table: null);
    }

    /// <summary>Returns the guard that blocked, if any (none: the answer is clean).</summary>
    [Benchmark(OperationsPerInvoke = StreamedAnswers.Tokens + 3)]
    public string? StreamedAnswer()
    {
        var guardrail = new StreamingChatGuardrail(() => new StreamingTextGuard([_guard], table: null, onAction: null));
        foreach (var chunk in _chunks)
        {
            _output.ResetWrittenCount();
            guardrail.RewriteChunk(chunk.Span, _output);
        }

        return guardrail.BlockedBy;
    }
}
