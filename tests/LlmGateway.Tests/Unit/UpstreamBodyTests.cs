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

    [Fact]
    public void WithModel_KeepsEveryOtherByteAsTheClientSentIt()
    {
        const string Body = """{ "messages": [{"role":"user","content":"hé ☃ \u00e9"}],  "model" : "public", "n":2 }""";
        using var document = JsonDocument.Parse(Body);

        var rewritten = Encoding.UTF8.GetString(UpstreamBody.WithModel(document.RootElement, "upstream-1").Span);

        rewritten.ShouldBe("""{ "messages": [{"role":"user","content":"hé ☃ \u00e9"}],  "model" : "upstream-1", "n":2 }""");
    }

    [Fact]
    public void WithModel_ReplacesEveryTopLevelModel_AndNoNestedOne()
    {
        using var document = JsonDocument.Parse("""{"model":"a","metadata":{"model":"keep"},"model":null}""");

        var rewritten = Encoding.UTF8.GetString(UpstreamBody.WithModel(document.RootElement, "b").Span);

        rewritten.ShouldBe("""{"model":"b","metadata":{"model":"keep"},"model":"b"}""");
    }

    [Fact]
    public void WithModel_EscapesTheNewName()
    {
        using var document = JsonDocument.Parse("""{"model":"a"}""");

        var rewritten = UpstreamBody.WithModel(document.RootElement, "quote\"back\\slash");

        using var result = JsonDocument.Parse(rewritten);
        result.RootElement.GetProperty("model").GetString().ShouldBe("quote\"back\\slash");
    }
}
