using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Parsing;
using LlmGateway.Routing;

namespace LlmGateway.Tests.Unit;

public sealed class UpstreamBodyTests
{
    private const string ClientBody = """{"model":"public","messages":[{"role":"user","content":"hé \u2603"}],"n":2,"stream":true,"stream_options":{"x":1},"extra":{"a":null}}""";

    private static LlmRequestFeature Parse(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var buffer = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(buffer, 0);
        return LlmRequestParser.Parse(LlmOperation.ChatCompletions, buffer, bytes.Length, out _)!;
    }

    private static JsonElement Compose(UpstreamBodyFeature body) =>
        JsonDocument.Parse(UpstreamBody.Compose(body)).RootElement;

    [Fact]
    public void SendsTheClientsBytes_WhenNothingChanges()
    {
        using var request = Parse(ClientBody);
        var body = new UpstreamBodyFeature(request) { Model = "public" };

        Encoding.UTF8.GetString(UpstreamBody.Compose(body).Span).ShouldBe(ClientBody);
    }

    [Fact]
    public void RenamesTheModel_KeepingEveryOtherField()
    {
        using var request = Parse(ClientBody);

        var result = Compose(new UpstreamBodyFeature(request) { Model = "upstream-1" });

        result.GetProperty("model").GetString().ShouldBe("upstream-1");
        result.GetProperty("messages")[0].GetProperty("content").GetString().ShouldBe("hé \u2603");
        result.GetProperty("n").GetInt32().ShouldBe(2);
        result.GetProperty("extra").GetProperty("a").ValueKind.ShouldBe(JsonValueKind.Null);
        result.GetProperty("stream_options").GetProperty("x").GetInt32().ShouldBe(1);
    }

    [Fact]
    public void ChangesFromEveryStageCompose_WhateverTheOrder()
    {
        // A redacting guard replaces the parsed request (and so the body feature), metering asks for usage, then
        // routing picks a deployment on each attempt.
        using var redacted = Parse("""{"model":"public","messages":[{"role":"user","content":"[EMAIL]"}],"stream":true}""");
        var body = new UpstreamBodyFeature(redacted);
        body.IncludeUsage = true;
        body.Model = "deployment-a";
        body.Model = "deployment-b";

        var result = Compose(body);
        result.GetProperty("model").GetString().ShouldBe("deployment-b");
        result.GetProperty("messages")[0].GetProperty("content").GetString().ShouldBe("[EMAIL]");
        result.GetProperty("stream_options").GetProperty("include_usage").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public void AskingForUsage_KeepsTheClientsOtherStreamOptions()
    {
        using var request = Parse(ClientBody);

        var options = Compose(new UpstreamBodyFeature(request) { IncludeUsage = true }).GetProperty("stream_options");

        options.GetProperty("include_usage").GetBoolean().ShouldBeTrue();
        options.GetProperty("x").GetInt32().ShouldBe(1);
    }

    [Fact]
    public void AClone_ChangesIndependently()
    {
        using var request = Parse(ClientBody);
        var primary = new UpstreamBodyFeature(request) { IncludeUsage = true, Model = "a" };

        var hedge = primary.Clone();
        hedge.Model = "b";

        Compose(primary).GetProperty("model").GetString().ShouldBe("a");
        Compose(hedge).GetProperty("model").GetString().ShouldBe("b");
        Compose(hedge).GetProperty("stream_options").GetProperty("include_usage").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public void Rewrite_KeepsEveryOtherByteAsTheClientSentIt()
    {
        const string Body = """{ "messages": [{"role":"user","content":"hé ☃ \u00e9"}],  "model" : "public", "n":2 }""";
        using var document = JsonDocument.Parse(Body);

        var rewritten = Encoding.UTF8.GetString(UpstreamBody.Rewrite(document.RootElement, "upstream-1", includeUsage: false).Span);

        rewritten.ShouldBe("""{ "messages": [{"role":"user","content":"hé ☃ \u00e9"}],  "model" : "upstream-1", "n":2 }""");
    }

    [Fact]
    public void Rewrite_ReplacesEveryTopLevelModel_AndNoNestedOne()
    {
        using var document = JsonDocument.Parse("""{"model":"a","metadata":{"model":"keep"},"model":null}""");

        var rewritten = Encoding.UTF8.GetString(UpstreamBody.Rewrite(document.RootElement, "b", includeUsage: false).Span);

        rewritten.ShouldBe("""{"model":"b","metadata":{"model":"keep"},"model":"b"}""");
    }

    [Fact]
    public void Rewrite_EscapesTheNewName()
    {
        using var document = JsonDocument.Parse("""{"model":"a"}""");

        var rewritten = UpstreamBody.Rewrite(document.RootElement, "quote\"back\\slash", includeUsage: false);

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
