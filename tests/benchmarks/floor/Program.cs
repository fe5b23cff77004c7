// The floor under the gateway: what ASP.NET Core and YARP cost on this machine before any gateway stage runs.
// The benchmark (tests/benchmarks/run.sh) measures it beside nginx, so the gateway's own cost is the difference.
//   LlmGateway.Floor kestrel URL          answers every request with a fixed chat completion (no upstream)
//   LlmGateway.Floor yarp URL UPSTREAM    forwards every request to UPSTREAM with YARP's IHttpForwarder, no stages
using System.Net;
using System.Text;
using Yarp.ReverseProxy.Forwarder;

if (args.Length < 2 || (args[0] == "yarp" && args.Length < 3) || args[0] is not ("kestrel" or "yarp"))
{
    Console.Error.WriteLine("usage: LlmGateway.Floor kestrel URL | yarp URL UPSTREAM");
    return 2;
}

// Its own folder as the content root: the default (the working directory, the repository when run.sh runs) would
// have the host watch every file the benchmark writes there, and wake the floor for each change.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
builder.Logging.ClearProviders();
builder.WebHost.UseUrls(args[1]);
// As the gateway runs (its GatewayTransportExtensions): request code on the socket's thread when the runtime inlines
// socket completions, which the benchmark's processes do.
builder.WebHost.UseSockets(options => options.UnsafePreferInlineScheduling =
    Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1");
builder.Services.AddHttpForwarder();
var app = builder.Build();

if (args[0] == "kestrel")
{
    var answer = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-floor","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the floor."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}""");
    app.Run(async context =>
    {
        // Read the body as the gateway does: a proxy that ignored it would not be a fair floor.
        var body = context.Request.BodyReader;
        while (true)
        {
            var read = await body.ReadAsync(context.RequestAborted);
            body.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = answer.Length;
        await context.Response.Body.WriteAsync(answer, context.RequestAborted);
    });
}
else
{
    var invoker = new HttpMessageInvoker(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = null,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    });
    var upstream = args[2];
    var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
    app.Run(async context => await forwarder.SendAsync(context, upstream, invoker));
}

app.Run();
return 0;
