using System.ClientModel;
using System.Text;
using LlmGateway.Tests.Infrastructure;
using OpenAI.Chat;

namespace LlmGateway.Tests.Functional;

/// <summary>The official OpenAI .NET SDK, pointed at the gateway, behaves as it does against the upstream directly.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class OpenAiSdkTests(GatewayFixture fixture)
{
    private static readonly ChatMessage[] Question = [new SystemChatMessage("Be brief."), new UserChatMessage("What is the capital of France?")];

    [Fact]
    public async Task Chat_AnswersAsTheUpstreamDoes()
    {
        var viaGateway = (await fixture.Gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetChatClient("mock-gpt").CompleteChatAsync(Question, cancellationToken: TestContext.Current.CancellationToken)).Value;
        var direct = (await fixture.CreateDirectClient().GetChatClient("mock-gpt").CompleteChatAsync(Question, cancellationToken: TestContext.Current.CancellationToken)).Value;

        viaGateway.Content.ShouldHaveSingleItem().Text.ShouldBe(direct.Content[0].Text);
        viaGateway.Content[0].Text.ShouldNotBeNullOrWhiteSpace();
        viaGateway.FinishReason.ShouldBe(ChatFinishReason.Stop);
        viaGateway.Usage.InputTokenCount.ShouldBe(direct.Usage.InputTokenCount);
        viaGateway.Usage.OutputTokenCount.ShouldBe(direct.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Chat_ToAnAlias_ReachesTheConfiguredUpstreamModel()
    {
        var completion = (await fixture.Gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetChatClient("gpt-test-alias").CompleteChatAsync(Question, cancellationToken: TestContext.Current.CancellationToken)).Value;

        // The mock echoes the model it was asked for, so this shows the gateway rewrote the body.
        completion.Model.ShouldBe("mock-gpt");
    }

    [Fact]
    public async Task Streaming_DeliversTheSameUpdatesAsTheUpstream()
    {
        var viaGateway = await CollectStreamAsync(fixture.Gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetChatClient("mock-gpt"));
        var direct = await CollectStreamAsync(fixture.CreateDirectClient().GetChatClient("mock-gpt"));

        viaGateway.Deltas.ShouldBe(direct.Deltas);
        viaGateway.Deltas.Count.ShouldBeGreaterThan(3);
        viaGateway.FinishReason.ShouldBe(ChatFinishReason.Stop);
        viaGateway.OutputTokens.ShouldBe(direct.OutputTokens);
        viaGateway.OutputTokens.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Embeddings_ComeBackAsTheUpstreamComputedThem()
    {
        var viaGateway = (await fixture.Gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetEmbeddingClient("mock-embed").GenerateEmbeddingAsync("The quick brown fox", cancellationToken: TestContext.Current.CancellationToken)).Value;
        var direct = (await fixture.CreateDirectClient().GetEmbeddingClient("mock-embed").GenerateEmbeddingAsync("The quick brown fox", cancellationToken: TestContext.Current.CancellationToken)).Value;

        viaGateway.ToFloats().ToArray().ShouldBe(direct.ToFloats().ToArray());
        viaGateway.ToFloats().Length.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Models_ListsTheCatalog_AndRetrievesOne()
    {
        var models = fixture.Gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetOpenAIModelClient();

        var listed = (await models.GetModelsAsync(TestContext.Current.CancellationToken)).Value.Select(m => m.Id).ToList();
        listed.ShouldContain("gpt-test");
        listed.ShouldContain("gpt-test-alias");
        listed.ShouldNotContain("mock-*");

        var one = (await models.GetModelAsync("gpt-test", TestContext.Current.CancellationToken)).Value;
        one.Id.ShouldBe("gpt-test");
        one.OwnedBy.ShouldBe("mock");
    }

    [Fact]
    public async Task UnknownModel_SurfacesAsA404InTheSdk()
    {
        var chat = fixture.Gateway.CreateOpenAIClient(TestSettings.VirtualKey).GetChatClient("no-such-model");

        var exception = await Should.ThrowAsync<ClientResultException>(() => chat.CompleteChatAsync(Question, cancellationToken: TestContext.Current.CancellationToken));

        exception.Status.ShouldBe(404);
        exception.Message.ShouldContain("model_not_found");
    }

    [Fact]
    public async Task WrongVirtualKey_SurfacesAsA401InTheSdk()
    {
        var chat = fixture.Gateway.CreateOpenAIClient("sk-not-a-key").GetChatClient("mock-gpt");

        var exception = await Should.ThrowAsync<ClientResultException>(() => chat.CompleteChatAsync(Question, cancellationToken: TestContext.Current.CancellationToken));

        exception.Status.ShouldBe(401);
        exception.Message.ShouldNotContain("sk-not-a-key");
    }

    private static async Task<(List<string> Deltas, ChatFinishReason? FinishReason, int OutputTokens)> CollectStreamAsync(ChatClient chat)
    {
        var deltas = new List<string>();
        ChatFinishReason? finishReason = null;
        var outputTokens = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync(Question, cancellationToken: TestContext.Current.CancellationToken))
        {
            var text = new StringBuilder();
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            if (text.Length > 0)
            {
                deltas.Add(text.ToString());
            }

            finishReason ??= update.FinishReason;
            if (update.Usage is { } usage)
            {
                outputTokens = usage.OutputTokenCount;
            }
        }

        return (deltas, finishReason, outputTokens);
    }
}
