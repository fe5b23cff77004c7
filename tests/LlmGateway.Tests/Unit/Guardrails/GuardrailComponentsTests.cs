using System.Text.Json;
using LlmGateway.Configuration;
using LlmGateway.Guardrails;
using LlmGateway.Guardrails.Detection;
using LlmGateway.Parsing;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Unit.Guardrails;

public sealed class JsonSchemaValidatorTests
{
    private const string Schema = """
        {"type":"object","properties":{
            "name":{"type":"string"},
            "age":{"type":"integer"},
            "tags":{"type":"array","items":{"type":"string"}},
            "status":{"enum":["active","retired"]},
            "note":{"anyOf":[{"type":"string"},{"type":"null"}]}},
         "required":["name","age"],"additionalProperties":false}
        """;

    private static string? Validate(string json) =>
        JsonSchemaValidator.Validate(JsonDocument.Parse(Schema).RootElement, JsonDocument.Parse(json).RootElement);

    [Fact]
    public void AcceptsAConformingDocument() =>
        Validate("""{"name":"Ada","age":36,"tags":["x"],"status":"active","note":null}""").ShouldBeNull();

    [Theory]
    [InlineData("""{"name":"Ada"}""", "missing required property 'age'")]
    [InlineData("""{"name":"Ada","age":36.5}""", "$.age: expected")]
    [InlineData("""{"name":"Ada","age":1,"tags":[1]}""", "$.tags[0]: expected")]
    [InlineData("""{"name":"Ada","age":1,"status":"gone"}""", "$.status: not one of")]
    [InlineData("""{"name":"Ada","age":1,"extra":true}""", "$.extra: additional property not allowed")]
    [InlineData("""{"name":"Ada","age":1,"note":5}""", "$.note: matches none of anyOf")]
    [InlineData("""[1,2]""", "$: expected")]
    public void NamesThePathThatFails(string json, string expected) => Validate(json)!.ShouldContain(expected);
}

public sealed class RedactionTests
{
    [Fact]
    public void NumberedPlaceholders_AreStableForTheSameValue_AndRestore()
    {
        var table = new MaskingTable();
        const string Text = "a@x.io and b@x.io, again a@x.io";
        var matches = new List<TextMatch>();
        PiiScanner.Scan(Text, PiiEntities.All, matches);
        Redactor.Normalize(matches);

        var masked = Redactor.Apply(Text, matches, table);

        masked.ShouldBe("[EMAIL_1] and [EMAIL_2], again [EMAIL_1]");
        table.Restore("Reply to [EMAIL_2] [not a placeholder] [EMAIL_1]").ShouldBe("Reply to b@x.io [not a placeholder] a@x.io");
    }

    [Fact]
    public void OverlappingMatches_KeepTheEarlierAndLonger()
    {
        var matches = new List<TextMatch> { new(5, 3, "B"), new(0, 10, "A"), new(12, 2, "C") };
        Redactor.Normalize(matches);
        matches.ShouldBe([new TextMatch(0, 10, "A"), new TextMatch(12, 2, "C")]);
    }
}

public sealed class RequestTextTests
{
    [Fact]
    public void CollectsAndRewrites_ChatStringsAndContentParts_LeavingTheRestAlone()
    {
        using var document = JsonDocument.Parse("""
            {"model":"m","messages":[
              {"role":"system","content":"be brief"},
              {"role":"user","content":[{"type":"text","text":"hi a@b.io"},{"type":"image_url","image_url":{"url":"http://x"}}]}],
             "temperature":0.2}
            """);
        var texts = new List<string>();
        RequestText.Collect(LlmOperation.ChatCompletions, document.RootElement, texts);
        texts.ShouldBe(["be brief", "hi a@b.io"]);

        var rewritten = RequestText.Rewrite(LlmOperation.ChatCompletions, document.RootElement, [null, "hi [EMAIL]"]);
        using var result = JsonDocument.Parse(rewritten);
        var root = result.RootElement;
        root.GetProperty("messages")[0].GetProperty("content").GetString().ShouldBe("be brief");
        root.GetProperty("messages")[1].GetProperty("content")[0].GetProperty("text").GetString().ShouldBe("hi [EMAIL]");
        root.GetProperty("messages")[1].GetProperty("content")[1].GetProperty("image_url").GetProperty("url").GetString().ShouldBe("http://x");
        root.GetProperty("temperature").GetDouble().ShouldBe(0.2);
    }

    [Theory]
    [InlineData(LlmOperation.Completions, """{"model":"m","prompt":["one","two"]}""", new[] { "one", "two" })]
    [InlineData(LlmOperation.Embeddings, """{"model":"m","input":"vector me"}""", new[] { "vector me" })]
    [InlineData(LlmOperation.Responses, """{"model":"m","instructions":"sys","input":[{"role":"user","content":[{"type":"input_text","text":"q"}]}]}""", new[] { "sys", "q" })]
    [InlineData(LlmOperation.Responses, """{"model":"m","input":"plain"}""", new[] { "plain" })]
    public void CollectsTheTextsOfEveryOperation(LlmOperation operation, string json, string[] expected)
    {
        using var document = JsonDocument.Parse(json);
        var texts = new List<string>();
        RequestText.Collect(operation, document.RootElement, texts);
        texts.ShouldBe(expected);
    }
}

public sealed class WatcherVerdictTests
{
    [Theory]
    [InlineData("safe", WatcherVerdict.Safe)]
    [InlineData("  Unsafe\nS1", WatcherVerdict.Unsafe)]
    [InlineData("unsafe.", WatcherVerdict.Unsafe)]
    [InlineData("I think it is fine", WatcherVerdict.Failed)]
    [InlineData("", WatcherVerdict.Failed)]
    [InlineData(null, WatcherVerdict.Failed)]
    public void ReadsTheFirstWord(string? answer, WatcherVerdict expected) => WatcherClient.ParseVerdict(answer).ShouldBe(expected);
}

public sealed class GuardrailsOptionsValidatorTests
{
    private static List<string> Validate(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = configuration.GetSection(GuardrailsOptions.SectionName).Get<GuardrailsOptions>() ?? new GuardrailsOptions();
        var gateway = configuration.GetSection("Gateway").Get<GatewayOptions>() ?? new GatewayOptions();
        return GuardrailsOptionsValidator.Collect(options, gateway);
    }

    [Fact]
    public void AcceptsAValidPolicy()
    {
        Validate(new()
        {
            ["Gateway:Models:judge:Provider"] = "p",
            ["Gateway:Guardrails:Policies:default:Models:0"] = "*",
            ["Gateway:Guardrails:Policies:default:ReversibleMasking"] = "true",
            ["Gateway:Guardrails:Policies:default:Guards:pii:Type"] = "Pii",
            ["Gateway:Guardrails:Policies:default:Guards:pii:Action"] = "Redact",
            ["Gateway:Guardrails:Policies:default:Guards:pii:Stage"] = "Both",
            ["Gateway:Guardrails:Policies:default:Guards:pii:Entities:0"] = "Email",
            ["Gateway:Guardrails:Policies:default:Guards:injection:Type"] = "PromptInjection",
            ["Gateway:Guardrails:Policies:default:Guards:injection:Threshold"] = "0.6",
            ["Gateway:Guardrails:Policies:default:Guards:size:Type"] = "SizeLimit",
            ["Gateway:Guardrails:Policies:default:Guards:size:MaxMessages"] = "50",
            ["Gateway:Guardrails:Policies:default:Guards:judge:Type"] = "Watcher",
            ["Gateway:Guardrails:Policies:default:Guards:judge:Model"] = "judge",
        }).ShouldBeEmpty();
    }

    [Fact]
    public void ListsEveryErrorAtOnce_EachNamingItsKey()
    {
        const string P = "Gateway:Guardrails:Policies";
        var errors = Validate(new()
        {
            [$"{P}:a:Models:0"] = "gpt-*",
            [$"{P}:a:Guards:inj:Type"] = "PromptInjection",
            [$"{P}:a:Guards:inj:Action"] = "Redact",
            [$"{P}:a:Guards:inj:Threshold"] = "1.5",
            [$"{P}:a:Guards:deny:Type"] = "DenyList",
            [$"{P}:a:Guards:re:Type"] = "Regex",
            [$"{P}:a:Guards:re:Pattern"] = "([unclosed",
            [$"{P}:a:Guards:size:Type"] = "SizeLimit",
            [$"{P}:a:Guards:judge:Type"] = "Watcher",
            [$"{P}:a:Guards:judge:Model"] = "nowhere",
            [$"{P}:a:Guards:judge:Timeout"] = "00:00:00",
            [$"{P}:a:Guards:schema:Type"] = "JsonSchema",
            [$"{P}:a:Guards:schema:Stage"] = "Input",
            [$"{P}:b:Models:0"] = "gpt-*",
            [$"{P}:c:Models:0"] = "x",
        });

        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:inj:Action: a PromptInjection guard can Block or Log", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:inj:Threshold must be in (0, 1]", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:deny:Terms must list", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:re:Pattern is not a valid regular expression", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:size: a SizeLimit guard needs", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:judge:Model 'nowhere' is not configured", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:judge:Timeout must be positive", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:a:Guards:schema:Stage: a JsonSchema guard always runs on Output", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:b:Models: 'gpt-*' is already guarded by policy 'a'", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:b:Guards is empty", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith($"{P}:c:Guards is empty", StringComparison.Ordinal));
        errors.Count.ShouldBe(11, string.Join(Environment.NewLine, errors));
    }
}
