using System.Text;
using LlmGateway.Providers.Azure;
using LlmGateway.Providers.Translation;

namespace LlmGateway.Tests.Unit.Providers;

public sealed class AzureOpenAiAddressTests
{
    [Fact]
    public void ChatCompletions_UseTheDeploymentPath_AndTheApiVersionQuery()
    {
        // Azure OpenAI REST reference: POST {endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version={api-version}
        var uri = AzureOpenAiAddress.RequestUri(new Uri("https://contoso.openai.azure.com/"), "gpt-4o-prod", "chat/completions", "2024-10-21");

        uri.ToString().ShouldBe("https://contoso.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21");
    }

    [Fact]
    public void DeploymentNamesAreEscaped_AndEndpointPathsKept()
    {
        AzureOpenAiAddress.PathAndQuery("my deployment", "/embeddings", "2024-10-21")
            .ShouldBe("/openai/deployments/my%20deployment/embeddings?api-version=2024-10-21");
        AzureOpenAiAddress.RequestUri(new Uri("https://gw.example.org/azure"), "d", "completions", "v")
            .ToString().ShouldBe("https://gw.example.org/azure/openai/deployments/d/completions?api-version=v");
    }
}

public sealed class ServerSentEventParserTests
{
    [Fact]
    public void Events_AreSplitOnBlankLines_WithCommentsSkipped_MultiLineDataJoined_AndCrLfAccepted()
    {
        var parser = new ServerSentEventParser();
        parser.Append(": keep-alive\n\nevent: one\r\ndata: {\"a\":1}\r\n\r\ndata: line1\ndata:line2\n\nevent: empty\n\n"u8);

        var events = new List<(string, string)>();
        while (parser.TryRead(out var name, out var data))
        {
            events.Add((Encoding.UTF8.GetString(name), Encoding.UTF8.GetString(data)));
        }

        events.ShouldBe([("one", "{\"a\":1}"), ("", "line1\nline2")]);
    }

    [Fact]
    public void AnIncompleteEvent_WaitsForTheRestOfItsBytes()
    {
        var parser = new ServerSentEventParser();
        parser.Append("data: {\"text\":\"caf"u8);
        parser.TryRead(out _, out _).ShouldBeFalse();
        parser.Append("\u00e9\"}\n"u8);
        parser.TryRead(out _, out _).ShouldBeFalse();
        parser.Append("\n"u8);

        parser.TryRead(out _, out var data).ShouldBeTrue();
        Encoding.UTF8.GetString(data).ShouldBe("{\"text\":\"café\"}");
    }
}
