using System.Text;
using System.Text.Json;
using LlmGateway.Routing;

namespace LlmGateway.Tests.Unit;

public sealed class UpstreamBodyTests
{
    [Fact]
    public void WithModel_ReplacesOnlyTheModel_KeepingEveryOtherField()
    {
        using var document = JsonDocument.Parse("""{"model":"public","messages":[{"role":"user","content":"hé \u2603"}],"n":2,"extra":{"a":null}}""");

        var rewritten = Encoding.UTF8.GetString(UpstreamBody.WithModel(document.RootElement, "upstream-1").Span);

        using var result = JsonDocument.Parse(rewritten);
        result.RootElement.GetProperty("model").GetString().ShouldBe("upstream-1");
        result.RootElement.GetProperty("messages")[0].GetProperty("content").GetString().ShouldBe("hé \u2603");
        result.RootElement.GetProperty("n").GetInt32().ShouldBe(2);
        result.RootElement.GetProperty("extra").GetProperty("a").ValueKind.ShouldBe(JsonValueKind.Null);
    }
}
