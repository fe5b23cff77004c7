using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Guardrails;
using LlmGateway.Guardrails.Streaming;

namespace LlmGateway.Tests.Unit.Guardrails;

public sealed class StreamingTextGuardTests
{
    private const string Card = "4111 1111 1111 1111";

    private static TextGuard Pii(GuardAction action) =>
        (TextGuard)Guard.Create("pii-out", new GuardOptions { Type = GuardType.Pii, Action = action, Stage = GuardStage.Output });

    private static StreamingTextGuard Create(GuardAction action, List<string>? actions = null, MaskingTable? table = null, int window = StreamingTextGuard.DefaultWindow) =>
        new([Pii(action)], table, (guard, _) => actions?.Add(guard.Name), window);

    /// <summary>Streams the chunks and returns what the client would see, or the guard that blocked.</summary>
    private static (string Text, string? BlockedBy) Stream(StreamingTextGuard guard, IEnumerable<string> chunks)
    {
        var output = new StringBuilder();
        foreach (var chunk in chunks)
        {
            var decision = guard.Push(chunk);
            output.Append(decision.Emit);
            if (decision.Blocked)
            {
                return (output.ToString(), decision.BlockedBy);
            }
        }

        var last = guard.Complete();
        output.Append(last.Emit);
        return (output.ToString(), last.BlockedBy);
    }

    [Fact]
    public void RedactsACardSplitIntoTwoChunks_AtEverySplitPoint()
    {
        const string Text = "Your card " + Card + " was charged twice.";
        for (var split = 0; split <= Text.Length; split++)
        {
            var (output, blockedBy) = Stream(Create(GuardAction.Redact), [Text[..split], Text[split..]]);

            blockedBy.ShouldBeNull();
            output.ShouldBe("Your card [CARD] was charged twice.", $"split at {split}");
        }
    }

    [Fact]
    public void RedactsACardSplitIntoThreeChunks_AtEveryPairOfSplitPoints()
    {
        const string Text = "pay " + Card + " now";
        for (var first = 0; first <= Text.Length; first++)
        {
            for (var second = first; second <= Text.Length; second++)
            {
                var (output, _) = Stream(Create(GuardAction.Redact), [Text[..first], Text[first..second], Text[second..]]);
                output.ShouldBe("pay [CARD] now", $"splits at {first} and {second}");
            }
        }
    }

    [Fact]
    public void RedactsWhenEveryCharacterIsItsOwnChunk()
    {
        const string Text = "mail maria.rossi@example.org or DE89 3704 0044 0532 0130 00, thanks";

        var (output, _) = Stream(Create(GuardAction.Redact), Text.Select(c => c.ToString()));

        output.ShouldBe("mail [EMAIL] or [IBAN], thanks");
    }

    [Fact]
    public void Blocks_BeforeAnyDigitOfTheCardIsReleased_AtEverySplitPoint()
    {
        var text = "Here it is: " + Card + " " + new string('x', 100);
        for (var split = 0; split <= text.Length; split++)
        {
            var (output, blockedBy) = Stream(Create(GuardAction.Block), [text[..split], text[split..]]);

            blockedBy.ShouldBe("pii-out");
            output.ShouldNotContain("4111", customMessage: $"split at {split}");
            "Here it is: ".ShouldStartWith(output, customMessage: $"split at {split}");
        }
    }

    [Fact]
    public void HoldsBackOnlyTheWindow_SoLongAnswersStillStream()
    {
        var guard = Create(GuardAction.Redact, window: 16);
        var released = 0;
        for (var i = 0; i < 20; i++)
        {
            released += guard.Push("word ").Emit.Length;
        }

        released.ShouldBe(100 - 16);
        guard.Complete().Emit.Length.ShouldBe(16);
    }

    [Fact]
    public void ReportsEachRedaction_Once()
    {
        var actions = new List<string>();
        Stream(Create(GuardAction.Redact, actions), ["card 4111 1111 ", "1111 1111 and ", "more text ", "to push it out of the window ", new string('y', 80)]);

        actions.ShouldBe(["pii-out"]);
    }

    [Fact]
    public void RestoresSplitPlaceholders_FromTheMaskingTable()
    {
        var table = new MaskingTable();
        var placeholder = table.PlaceholderFor("EMAIL", "maria@example.org");
        const string Text = "Sure, I wrote to [EMAIL_1] as asked.";
        for (var split = 0; split <= Text.Length; split++)
        {
            var guard = new StreamingTextGuard([], table, null);
            var (output, _) = Stream(guard, [Text[..split], Text[split..]]);
            output.ShouldBe("Sure, I wrote to maria@example.org as asked.", $"split at {split}");
        }

        placeholder.ShouldBe("[EMAIL_1]");
    }
}

public sealed class StreamingChatGuardrailTests
{
    private static StreamingChatGuardrail Create(GuardAction action) =>
        new(() => new StreamingTextGuard(
            [(TextGuard)Guard.Create("pii-out", new GuardOptions { Type = GuardType.Pii, Action = action, Stage = GuardStage.Output })], null, null));

    private static string Chunk(string? content, string? finish = null) =>
        JsonSerializer.Serialize(new
        {
            id = "chatcmpl-1",
            @object = "chat.completion.chunk",
            choices = new[] { new { index = 0, delta = content is null ? (object)new { } : new { content }, finish_reason = finish } },
        });

    /// <summary>The content each event carries after rewriting, and the finish reasons.</summary>
    private static (string Content, List<string?> FinishReasons, ChunkRewrite Last) Run(StreamingChatGuardrail guardrail, IEnumerable<string> events)
    {
        var content = new StringBuilder();
        var finishes = new List<string?>();
        var last = ChunkRewrite.Unchanged;
        foreach (var data in events)
        {
            var output = new ArrayBufferWriter<byte>();
            last = guardrail.RewriteChunk(Encoding.UTF8.GetBytes(data), output);
            var json = last == ChunkRewrite.Unchanged ? data : Encoding.UTF8.GetString(output.WrittenSpan);
            var choice = JsonDocument.Parse(json).RootElement.GetProperty("choices")[0];
            if (choice.GetProperty("delta").TryGetProperty("content", out var delta))
            {
                content.Append(delta.GetString());
            }

            finishes.Add(choice.GetProperty("finish_reason").GetString());
            if (last == ChunkRewrite.Blocked)
            {
                break;
            }
        }

        return (content.ToString(), finishes, last);
    }

    [Fact]
    public void RewritesDeltas_AndFlushesTheHeldBackTextWithTheFinishReason()
    {
        var (content, finishes, last) = Run(Create(GuardAction.Redact),
            [Chunk("Card "), Chunk("4111 1111 "), Chunk("1111 1111"), Chunk(" ok."), Chunk(null, "stop")]);

        content.ShouldBe("Card [CARD] ok.");
        finishes[^1].ShouldBe("stop");
        last.ShouldBe(ChunkRewrite.Rewritten);
    }

    [Fact]
    public void EndsWithContentFilter_WhenAGuardBlocks()
    {
        var (content, finishes, last) = Run(Create(GuardAction.Block),
            [Chunk("Card "), Chunk("4111 1111 "), Chunk("1111 1111"), Chunk(" ok."), Chunk(null, "stop")]);

        last.ShouldBe(ChunkRewrite.Blocked);
        finishes[^1].ShouldBe("content_filter");
        content.ShouldNotContain("4111");
    }

    [Fact]
    public void KeepsInterleavedStreamsApart_AndSurvivesAChunkLargerThanTheReusedBuffer()
    {
        // Rewritten chunks share one writer per thread: two streams on one thread, and a chunk that outgrows its buffer.
        var first = Create(GuardAction.Redact);
        var second = Create(GuardAction.Redact);
        var huge = new string('z', 70_000);
        string[] firstDeltas = ["Write to ", "ops@example.com ", "about the ", "outage, ", "then wait ", "for an answer ", "from the ", "on-call team.", huge, " Done."];
        string[] secondDeltas = ["The card ", "4111 1111 ", "1111 1111 ", "was declined ", "twice, so ", "please try ", "another one ", "or call back.", " Thanks", " again."];
        var firstContent = new StringBuilder();
        var secondContent = new StringBuilder();
        for (var i = 0; i <= firstDeltas.Length; i++)
        {
            var final = i == firstDeltas.Length;
            firstContent.Append(Run(first, [final ? Chunk(null, "stop") : Chunk(firstDeltas[i])]).Content);
            secondContent.Append(Run(second, [final ? Chunk(null, "stop") : Chunk(secondDeltas[i])]).Content);
        }

        firstContent.ToString().ShouldBe("Write to [EMAIL] about the outage, then wait for an answer from the on-call team." + huge + " Done.");
        secondContent.ToString().ShouldBe("The card [CARD] was declined twice, so please try another one or call back. Thanks again.");
    }

    [Fact]
    public void LeavesChunksWithoutContent_Unchanged()
    {
        var guardrail = Create(GuardAction.Redact);
        var output = new ArrayBufferWriter<byte>();

        guardrail.RewriteChunk("""{"id":"x","choices":[],"usage":{"prompt_tokens":3}}"""u8, output).ShouldBe(ChunkRewrite.Unchanged);
        guardrail.RewriteChunk(Encoding.UTF8.GetBytes(Chunk("")), output).ShouldBe(ChunkRewrite.Unchanged);
        output.WrittenCount.ShouldBe(0);
    }
}
