using System.Text;
using System.Text.Json;
using LlmGateway.Guardrails;
using LlmGateway.Parsing;

namespace LlmGateway.Tests.Unit.Guardrails;

public sealed class ResponseTextTests
{
    private const string Answer =
        """{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Write to ana@example.com."},"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":"Nothing to hide."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}""";

    [Fact]
    public void AnAnswerNoGuardChanges_IsNotWrittenAgain_AndEachChoiceIsJudgedOnce()
    {
        var judged = new List<string>();

        var rewritten = ResponseText.Rewrite(LlmOperation.ChatCompletions, Encoding.UTF8.GetBytes(Answer), text =>
        {
            judged.Add(text);
            return new ChoiceOutcome(text, Blocked: false);
        });

        rewritten.ShouldBeNull("the client gets the upstream's bytes as they are");
        judged.ShouldBe(["Write to ana@example.com.", "Nothing to hide."]);
    }

    [Fact]
    public void OneChangedChoice_RewritesThatChoice_AndKeepsEverythingElse()
    {
        var calls = 0;

        var rewritten = ResponseText.Rewrite(LlmOperation.ChatCompletions, Encoding.UTF8.GetBytes(Answer), text =>
        {
            calls++;
            return new ChoiceOutcome(text.Replace("ana@example.com", "[EMAIL]", StringComparison.Ordinal), Blocked: false);
        });

        calls.ShouldBe(2);
        rewritten.ShouldNotBeNull();
        using var document = JsonDocument.Parse(rewritten);
        var choices = document.RootElement.GetProperty("choices");
        choices[0].GetProperty("message").GetProperty("content").GetString().ShouldBe("Write to [EMAIL].");
        choices[1].GetProperty("message").GetProperty("content").GetString().ShouldBe("Nothing to hide.");
        choices[0].GetProperty("finish_reason").GetString().ShouldBe("stop");
        document.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32().ShouldBe(14);
    }

    [Fact]
    public void ABlockedChoice_IsEmptied_WithFinishReasonContentFilter()
    {
        var rewritten = ResponseText.Rewrite(LlmOperation.ChatCompletions, Encoding.UTF8.GetBytes(Answer),
            text => new ChoiceOutcome(text, Blocked: text.Contains('@', StringComparison.Ordinal)));

        using var document = JsonDocument.Parse(rewritten.ShouldNotBeNull());
        var blocked = document.RootElement.GetProperty("choices")[0];
        blocked.GetProperty("message").GetProperty("content").GetString().ShouldBe("");
        blocked.GetProperty("finish_reason").GetString().ShouldBe(ResponseText.ContentFilter);
    }
}
