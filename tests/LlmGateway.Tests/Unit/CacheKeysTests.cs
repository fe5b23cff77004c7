using System.Buffers;
using System.Text;
using LlmGateway.Caching;
using LlmGateway.Parsing;

namespace LlmGateway.Tests.Unit;

public sealed class CacheKeysTests
{
    private const string Tenant = "team:team-a";

    private static LlmRequestFeature Parse(string json, LlmOperation operation = LlmOperation.ChatCompletions)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var buffer = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(buffer, 0);
        return LlmRequestParser.Parse(operation, buffer, bytes.Length, out var error) ?? throw new InvalidOperationException(error!.Message);
    }

    private static string Key(string json, string tenant = Tenant, string model = "gpt-4o", LlmOperation operation = LlmOperation.ChatCompletions)
    {
        using var request = Parse(json, operation);
        return CacheKeys.Exact(tenant, request, model);
    }

    private static (string Text, SemanticScope Scope)? Semantic(string json, string tenant = Tenant, string model = "gpt-4o", string embeddingModel = "text-embedding-3-small")
    {
        using var request = Parse(json);
        return CacheKeys.TrySemantic(tenant, request, model, null, embeddingModel, out var text, out var scope) ? (text, scope) : null;
    }

    [Fact]
    public void ExactKey_IgnoresKeyOrderWhitespaceEscapesAndNumberSpelling()
    {
        var a = Key("""{"model":"gpt-4o","messages":[{"role":"user","content":"Caf\u00e9?"}],"temperature":1,"top_p":0.5,"max_tokens":20}""");
        var b = Key("""
            { "max_tokens" : 20,
              "temperature": 1.0,
              "top_p": 5e-1,
              "messages": [ { "content": "Café?", "role": "user" } ],
              "model": "gpt-4o" }
            """);

        b.ShouldBe(a);
        a.Length.ShouldBe(64);
    }

    [Fact]
    public void ExactKey_IgnoresFieldsThatCannotChangeTheAnswer()
    {
        var plain = Key("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""");

        Key("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"user":"u-17","metadata":{"k":"v"},"store":true}""").ShouldBe(plain);
        Key("""{"model":"gpt-4o-alias","messages":[{"role":"user","content":"hi"}]}""").ShouldBe(plain); // the resolved model is keyed, not the name asked for
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi!"}]}""")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0}""")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"seed":7}""")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}""")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}""")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}""")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"n":2}""")]
    public void ExactKey_ChangesWithAnythingThatChangesTheAnswer(string json)
    {
        var plain = Key("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""");

        Key(json).ShouldNotBe(plain);
    }

    [Fact]
    public void ExactKey_ChangesWithTenantModelAndOperation()
    {
        const string json = """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""";
        var plain = Key(json);

        Key(json, tenant: "team:team-b").ShouldNotBe(plain);
        Key(json, model: "gpt-4o-mini").ShouldNotBe(plain);
        Key(json, operation: LlmOperation.Messages).ShouldNotBe(plain);
    }

    [Fact]
    public void ExactKey_CannotBeForgedByMovingTextBetweenTenantAndModel()
    {
        const string json = """{"model":"x","messages":[{"role":"user","content":"hi"}]}""";

        Key(json, tenant: "team:a", model: "b:c").ShouldNotBe(Key(json, tenant: "team:a:b", model: "c"));
    }

    [Fact]
    public void Semantic_TakesTheFinalUserTurn_AndHashesEverythingElseAsTheContext()
    {
        var first = Semantic("""{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}],"temperature":0}""")!.Value;
        var reworded = Semantic("""{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"France's capital?"}],"temperature":0}""")!.Value;
        var otherSystem = Semantic("""{"model":"gpt-4o","messages":[{"role":"system","content":"Be verbose."},{"role":"user","content":"What is the capital of France?"}],"temperature":0}""")!.Value;
        var otherParameters = Semantic("""{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}],"temperature":1}""")!.Value;

        first.Text.ShouldBe("What is the capital of France?");
        reworded.Scope.ShouldBe(first.Scope);
        otherSystem.Scope.Context.ShouldNotBe(first.Scope.Context);
        otherParameters.Scope.Context.ShouldNotBe(first.Scope.Context);
        otherSystem.Scope.Partition.ShouldBe(first.Scope.Partition);
    }

    [Fact]
    public void Semantic_PartitionsByTenantModelAndEmbeddingsModel()
    {
        const string json = """{"model":"gpt-4o","messages":[{"role":"user","content":"hi there"}]}""";

        Semantic(json, tenant: "team:team-b")!.Value.Scope.Partition.ShouldNotBe(Semantic(json)!.Value.Scope.Partition);
        Semantic(json, model: "gpt-4o-mini")!.Value.Scope.Partition.ShouldNotBe(Semantic(json)!.Value.Scope.Partition);
        Semantic(json, embeddingModel: "text-embedding-3-large")!.Value.Scope.Partition.ShouldNotBe(Semantic(json)!.Value.Scope.Partition);
    }

    [Fact]
    public void Semantic_JoinsTextParts_AndDeclinesTurnsThatAreNotPlainUserText()
    {
        Semantic("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}""")!.Value.Text.ShouldBe("a\nb");

        Semantic("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/x.png"}}]}]}""").ShouldBeNull();
        Semantic("""{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}""").ShouldBeNull();
        Semantic("""{"model":"m","messages":[{"role":"user","content":"   "}]}""").ShouldBeNull();
    }

    [Fact]
    public void Semantic_DependsOnEarlierTurns()
    {
        var fresh = Semantic("""{"model":"m","messages":[{"role":"user","content":"And in winter?"}]}""")!.Value;
        var followUp = Semantic("""{"model":"m","messages":[{"role":"user","content":"Weather in Oslo?"},{"role":"assistant","content":"Mild."},{"role":"user","content":"And in winter?"}]}""")!.Value;

        followUp.Scope.Context.ShouldNotBe(fresh.Scope.Context);
    }
}
