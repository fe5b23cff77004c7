using LlmGateway.Metering;

namespace LlmGateway.Tests.Unit.Providers;

/// <summary>Metering reads Anthropic's usage (for <c>/v1/messages</c> clients) as Anthropic bills it.</summary>
public sealed class AnthropicUsageMeteringTests
{
    [Fact]
    public void AnthropicUsage_CountsCacheReadsAndWritesAsPromptTokens_AndReadsAsCached()
    {
        // Anthropic "Prompt caching": input_tokens counts only the tokens after the last cache breakpoint.
        UsageReader.TryRead("""
            {"id":"msg_1","type":"message","usage":{"input_tokens":21,"cache_creation_input_tokens":100,"cache_read_input_tokens":188086,"output_tokens":393}}
            """u8, out var usage).ShouldBeTrue();

        usage.ShouldBe(new TokenUsage(PromptTokens: 21 + 100 + 188086, CompletionTokens: 393, CachedPromptTokens: 188086, ReasoningTokens: 0));
    }

    [Fact]
    public void OpenAiUsage_IsReadAsBefore()
    {
        UsageReader.TryRead("""{"usage":{"prompt_tokens":120,"completion_tokens":30,"prompt_tokens_details":{"cached_tokens":100}}}"""u8, out var usage).ShouldBeTrue();

        usage.ShouldBe(new TokenUsage(120, 30, 100, 0));
    }
}
