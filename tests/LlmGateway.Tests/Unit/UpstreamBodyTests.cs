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

    [Fact]
    public void Rewrite_AddsStreamOptions_WhenTheClientSentNone()
    {
        using var document = JsonDocument.Parse("""{"model":"a","stream":true,"messages":[{"role":"user","content":"é"}]}""");

        var rewritten = Encoding.UTF8.GetString(UpstreamBody.Rewrite(document.RootElement, "b", includeUsage: true).Span);

        rewritten.ShouldBe("""{"model":"b","stream":true,"messages":[{"role":"user","content":"é"}],"stream_options":{"include_usage":true}}""");
    }

    [Fact]
    public void Rewrite_TurnsOnIncludeUsage_KeepingTheClientsOtherStreamOptions()
    {
        using var document = JsonDocument.Parse("""{"stream_options":{"include_usage":false,"chunk":1},"model":"a","stream":true}""");

        var rewritten = UpstreamBody.Rewrite(document.RootElement, "b", includeUsage: true);

        using var result = JsonDocument.Parse(rewritten);
        result.RootElement.GetProperty("model").GetString().ShouldBe("b");
        var options = result.RootElement.GetProperty("stream_options");
        options.GetProperty("include_usage").GetBoolean().ShouldBeTrue();
        options.GetProperty("chunk").GetInt32().ShouldBe(1);
        options.EnumerateObject().Count().ShouldBe(2);
        result.RootElement.GetProperty("stream").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public void Rewrite_LeavesStreamOptionsAlone_WhenUsageIsNotWanted()
    {
        using var document = JsonDocument.Parse("""{"model":"a","stream_options":{"include_usage":false}}""");

        var rewritten = Encoding.UTF8.GetString(UpstreamBody.Rewrite(document.RootElement, "b", includeUsage: false).Span);

        rewritten.ShouldBe("""{"model":"b","stream_options":{"include_usage":false}}""");
    }
}
