using System.Text;
using LlmGateway.Budgets;
using LlmGateway.Configuration;
using LlmGateway.Metering;
using LlmGateway.RateLimiting;
using LlmGateway.Responses;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Unit;

public sealed class UsageReaderTests
{
    [Fact]
    public void ReadsChatCompletionUsage_KeepingCachedAndReasoningTokensApart()
    {
        var json = """{"id":"x","choices":[{"message":{"content":"\"usage\":{fake}"}}],"usage": {"prompt_tokens":100,"completion_tokens":40,"total_tokens":140,"prompt_tokens_details":{"cached_tokens":60,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":25}}}"""u8;

        UsageReader.TryRead(json, out var usage).ShouldBeTrue();

        usage.ShouldBe(new TokenUsage(100, 40, 60, 25));
    }

    [Fact]
    public void ReadsResponsesApiUsage_NestedInTheCompletedEvent()
    {
        var json = """{"type":"response.completed","response":{"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":2},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":4}}}}"""u8;

        UsageReader.TryRead(json, out var usage).ShouldBeTrue();

        usage.ShouldBe(new TokenUsage(7, 9, 2, 4));
    }

    [Fact]
    public void FindsNoUsage_InAChunkWhoseUsageIsNull()
    {
        UsageReader.TryRead("""{"choices":[{"delta":{"content":"hi"}}],"usage":null}"""u8, out _).ShouldBeFalse();
    }

    [Fact]
    public void Cost_IsExactInDecimal_WithCachedTokensAtTheirOwnPrice()
    {
        var price = new ModelPrice { Input = 2.50m, CachedInput = 1.25m, Output = 10m };

        // 600 uncached × 2.50 + 400 cached × 1.25 + 500 output × 10, per million.
        price.CostOf(new TokenUsage(1_000, 500, 400, 100)).ShouldBe(0.007m);
    }
}

public sealed class PriceCatalogTests
{
    [Fact]
    public void ShippedPrices_LoadFromTheOutputFolder_AndDatedSnapshotsFallBackToTheirBaseModel()
    {
        var shipped = PriceCatalog.LoadShipped(Path.Combine(AppContext.BaseDirectory, PriceCatalog.ShippedPricesFile));
        var catalog = new PriceCatalog(shipped, new Dictionary<string, ModelPrice> { ["gpt-4o"] = new() { Input = 1m, Output = 2m } });

        shipped.Count.ShouldBeGreaterThan(10);
        catalog.Find("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18")!.Input.ShouldBe(0.15m);
        catalog.Find("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929")!.Output.ShouldBe(15m);
        catalog.Find("my-alias", "gpt-4o")!.Input.ShouldBe(1m);
        catalog.Find("gpt-4o-audio-preview", "gpt-4o-audio-preview").ShouldBeNull();
    }
}

public sealed class ResponseObservationTests
{
    private const string Stream =
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}],\"usage\":null}\n\n" +
        "event: message\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],\"usage\":null}\r\n\r\n" +
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n" +
        "data: [DONE]\n\n";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task EventsSplitAcrossWrites_AreSeenWhole_AndADroppedEventNeverReachesTheClient(int writeSize)
    {
        var (context, output) = NewContext("text/event-stream");
        var observer = new DroppingUsageObserver();
        ResponseObservation.Observe(context, observer);
        var bytes = Encoding.UTF8.GetBytes(Stream);

        for (var offset = 0; offset < bytes.Length; offset += writeSize)
        {
            await context.Response.Body.WriteAsync(bytes.AsMemory(offset, Math.Min(writeSize, bytes.Length - offset)), TestContext.Current.CancellationToken);
        }

        await ResponseObservation.CompleteAsync(context, deliver: true);

        observer.Events.ShouldBe(4);
        observer.Usage.ShouldBe(new TokenUsage(3, 2, 0, 0));
        var expected = Stream.Replace("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n", "", StringComparison.Ordinal);
        Encoding.UTF8.GetString(output.ToArray()).ShouldBe(expected);
    }

    [Fact]
    public async Task AJsonBody_IsHeldBack_UntilObserversHaveSeenItWhole()
    {
        var (context, output) = NewContext("application/json");
        var observer = new DroppingUsageObserver();
        ResponseObservation.Observe(context, observer);

        await context.Response.Body.WriteAsync("{\"usage\":{\"prompt_tokens\":"u8.ToArray(), TestContext.Current.CancellationToken);
        output.Length.ShouldBe(0);
        await context.Response.Body.WriteAsync("5,\"completion_tokens\":6}}"u8.ToArray(), TestContext.Current.CancellationToken);
        await ResponseObservation.CompleteAsync(context, deliver: true);

        observer.Usage.ShouldBe(new TokenUsage(5, 6, 0, 0));
        Encoding.UTF8.GetString(output.ToArray()).ShouldBe("{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}");
    }

    [Fact]
    public async Task AHeldBackBody_IsDiscardedByResponseClear_AsIfNothingHadBeenWritten()
    {
        var (context, output) = NewContext("application/json");
        var observer = new DroppingUsageObserver();
        ResponseObservation.Observe(context, observer);

        await context.Response.Body.WriteAsync("{\"error\":\"first attempt\"}"u8.ToArray(), TestContext.Current.CancellationToken);
        context.Response.Clear();
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}"u8.ToArray(), TestContext.Current.CancellationToken);
        await ResponseObservation.CompleteAsync(context, deliver: true);

        Encoding.UTF8.GetString(output.ToArray()).ShouldBe("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}");
        observer.Usage.ShouldBe(new TokenUsage(1, 2, 0, 0));
    }

    [Fact]
    public async Task ObservingAStream_AllocatesNothingPerEvent()
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(System.IO.Stream.Null));
        context.Response.ContentType = "text/event-stream";
        var observer = new DroppingUsageObserver();
        ResponseObservation.Observe(context, observer);
        var chunk = Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token \"},\"finish_reason\":null}],\"usage\":null}\n\n");
        var body = context.Response.Body;
        for (var i = 0; i < 100; i++)
        {
            await body.WriteAsync(chunk, TestContext.Current.CancellationToken);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            await body.WriteAsync(chunk, TestContext.Current.CancellationToken);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        observer.Events.ShouldBe(10_100);
        allocated.ShouldBeLessThan(10_000, "bytes allocated for 10,000 events (0 when measured)");
    }

    private static (HttpContext Context, MemoryStream Output) NewContext(string contentType)
    {
        var output = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(output));
        context.Response.ContentType = contentType;
        return (context, output);
    }

    private sealed class DroppingUsageObserver : IResponseObserver
    {
        public int Events { get; private set; }

        public TokenUsage Usage { get; private set; }

        public bool OnEvent(in ServerSentEvent serverSentEvent)
        {
            Events++;
            if (UsageReader.TryRead(serverSentEvent.Data, out var usage))
            {
                Usage = usage;
                return false;
            }

            return true;
        }

        public void OnBody(ReadOnlySpan<byte> body) => Usage = UsageReader.TryRead(body, out var usage) ? usage : default;
    }
}

public sealed class MeteringOptionsValidationTests
{
    [Fact]
    public void ReportsEveryMeteringProblem_NamingItsKey()
    {
        var options = new GatewayOptions
        {
            Metering = new MeteringOptions
            {
                DefaultMaxOutputTokens = 0,
                Prices = { ["m"] = new ModelPrice { Input = -1 } },
                Routes = { ["no-such-model"] = new MeteringRouteOptions { RefuseUnpricedModels = true } },
            },
            Budgets = new BudgetOptions { Keys = { ["nobody"] = new BudgetLimit { LimitUsd = 0 } } },
            RateLimits = new RateLimitOptions { Teams = { ["ghosts"] = new RateLimit { RequestsPerMinute = -5 } } },
            Admin = new LlmGateway.Admin.AdminOptions { KeyHash = "plain-text-key" },
        };

        var errors = GatewayOptionsValidator.Collect(options, new ConfigurationBuilder().Build());

        errors.ShouldContain(error => error.StartsWith("Gateway:Metering:DefaultMaxOutputTokens", StringComparison.Ordinal));
        errors.ShouldContain(error => error.StartsWith("Gateway:Metering:Prices:m", StringComparison.Ordinal));
        errors.ShouldContain(error => error.StartsWith("Gateway:Budgets:Keys:nobody:LimitUsd", StringComparison.Ordinal));
        errors.ShouldContain(error => error.StartsWith("Gateway:Budgets:Keys:nobody: there is no virtual key", StringComparison.Ordinal));
        errors.ShouldContain(error => error.StartsWith("Gateway:RateLimits:Teams:ghosts:RequestsPerMinute", StringComparison.Ordinal));
        errors.ShouldContain(error => error.StartsWith("Gateway:RateLimits:Teams:ghosts: no virtual key", StringComparison.Ordinal));
        errors.ShouldContain(error => error.StartsWith("Gateway:Admin:KeyHash", StringComparison.Ordinal));
        errors.ShouldContain(error => error.StartsWith("Gateway:Metering:Routes:no-such-model: there is no model", StringComparison.Ordinal));
    }
}
