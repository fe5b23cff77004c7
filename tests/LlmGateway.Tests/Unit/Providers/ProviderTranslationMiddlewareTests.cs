using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmGateway.Configuration;
using LlmGateway.Parsing;
using LlmGateway.Providers;
using LlmGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmGateway.Tests.Unit.Providers;

public sealed class ProviderTranslationMiddlewareTests
{
    private static (DefaultHttpContext Context, LlmRequestFeature Request) Prepare(ProviderType type, LlmOperation operation, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var rented = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(rented, 0);
        var request = LlmRequestParser.Parse(operation, rented, bytes.Length, out var error).ShouldNotBeNull(error?.Message);
        var provider = new UpstreamProvider("p", new ProviderOptions { Type = type }, new Uri("http://127.0.0.1:1/v1"), "upstream-key");
        var context = new DefaultHttpContext();
        context.Features.Set(request);
        var deployment = new Deployment("d", provider, "upstream-model", weight: 1, priority: 0, order: 0, breaker: null);
        context.Features.Set(new ModelRouteFeature(new ModelRoute(request.Model, provider, "upstream-model") { Deployment = deployment }));
        context.Features.Set(new UpstreamBodyFeature(request));
        UpstreamBody.Set(context, request.Body);
        return (context, request);
    }

    private static async Task<(string? Body, ProviderTranslationFeature? Feature)> RunAsync(DefaultHttpContext context)
    {
        string? forwarded = null;
        ProviderTranslationFeature? feature = null;
        var middleware = new ProviderTranslationMiddleware(
            async ctx =>
            {
                using var reader = new StreamReader(ctx.Request.Body);
                forwarded = await reader.ReadToEndAsync();
                feature = ctx.Features.Get<ProviderTranslationFeature>();
            },
            TimeProvider.System,
            NullLogger<ProviderTranslationMiddleware>.Instance);

        await middleware.InvokeAsync(context);
        return (forwarded, feature);
    }

    [Fact]
    public async Task TranslatesTheBodyEarlierStagesRewrote_NotTheClientsOriginal()
    {
        var (context, _) = Prepare(ProviderType.Anthropic, LlmOperation.ChatCompletions, """{"model":"claude","messages":[{"role":"user","content":"my card is 4111 1111 1111 1111"}]}""");
        // What a redacting guardrail does before routing hands over: the parsed request and its body are replaced.
        var redacted = Encoding.UTF8.GetBytes("""{"model":"claude","messages":[{"role":"user","content":"my card is [REDACTED]"}]}""");
        var rented = ArrayPool<byte>.Shared.Rent(redacted.Length);
        redacted.CopyTo(rented, 0);
        var redactedRequest = LlmRequestParser.Parse(LlmOperation.ChatCompletions, rented, redacted.Length, out _).ShouldNotBeNull();
        context.Response.RegisterForDispose(redactedRequest);
        context.Features.Set(redactedRequest);
        context.Features.Set(new UpstreamBodyFeature(redactedRequest));
        UpstreamBody.Apply(context);

        var (body, feature) = await RunAsync(context);

        body.ShouldNotBeNull().ShouldContain("[REDACTED]");
        body.ShouldNotContain("4111");
        using var translated = JsonDocument.Parse(body);
        translated.RootElement.GetProperty("model").GetString().ShouldBe("upstream-model");
        translated.RootElement.GetProperty("max_tokens").GetInt32().ShouldBe(4096);
        feature.ShouldNotBeNull().UpstreamPath.ShouldBe("/messages");
        feature.TranslatesResponse.ShouldBeTrue();
    }

    [Fact]
    public async Task OpenAiShapedProviders_ForOpenAiClients_PassThroughUntouched()
    {
        const string original = """{"model":"gpt","messages":[{"role":"user","content":"hi"}]}""";
        var (context, _) = Prepare(ProviderType.OpenAICompatible, LlmOperation.ChatCompletions, original);

        var (body, feature) = await RunAsync(context);

        body.ShouldBe(original);
        feature.ShouldBeNull();
    }

    [Fact]
    public async Task AzureProviders_AddressTheDeployment_WithoutTouchingTheBody()
    {
        const string original = """{"model":"gpt","input":"hi"}""";
        var (context, _) = Prepare(ProviderType.AzureOpenAI, LlmOperation.Embeddings, original);

        var (body, feature) = await RunAsync(context);

        body.ShouldBe(original);
        feature.ShouldNotBeNull().UpstreamPath.ShouldBe("/openai/deployments/upstream-model/embeddings");
        feature.ApiVersion.ShouldBe("2024-10-21");
        feature.TranslatesResponse.ShouldBeFalse();
    }

    [Fact]
    public async Task MessagesClients_ToOpenAiShapedProviders_AreTranslatedToChat()
    {
        var (context, _) = Prepare(ProviderType.OpenAI, LlmOperation.Messages, """{"model":"claude","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"stream":true}""");

        var (body, feature) = await RunAsync(context);

        using var translated = JsonDocument.Parse(body.ShouldNotBeNull());
        translated.RootElement.GetProperty("max_completion_tokens").GetInt32().ShouldBe(9);
        translated.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean().ShouldBeTrue();
        feature.ShouldNotBeNull().UpstreamPath.ShouldBe("/chat/completions");
    }
}
