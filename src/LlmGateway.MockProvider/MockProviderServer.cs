using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace LlmGateway.MockProvider;

/// <summary>
/// The mock provider on a real Kestrel server on 127.0.0.1 and a free port, for tests and benchmarks that need a
/// real upstream (streaming and connection failures behave as over a network, unlike with an in-memory server).
/// </summary>
/// <remarks>
/// The host is built from an empty builder: it reads no configuration files or environment variables (a test's
/// <c>ASPNETCORE_URLS</c> or <c>Kestrel</c> section cannot move it off loopback) and has no logging providers, so
/// it writes nothing into the logs of the gateway under test.
/// </remarks>
public sealed class MockProviderServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private MockProviderServer(WebApplication app, Uri baseAddress, MockProviderOptions options)
    {
        _app = app;
        BaseAddress = baseAddress;
        Options = options;
        Stats = app.Services.GetRequiredService<MockProviderStats>();
    }

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:54321/</c>; the OpenAI base URL is <c>BaseAddress + "v1"</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The live options: changes apply to the next request.</summary>
    public MockProviderOptions Options { get; }

    /// <summary>The same stats <c>GET /mock/stats</c> reports.</summary>
    public MockProviderStats Stats { get; }

    public static async Task<MockProviderServer> StartAsync(MockProviderOptions? options = null, CancellationToken ct = default)
    {
        options ??= new MockProviderOptions();
        var errors = MockProviderOptionsValidator.Collect(options);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(MockProviderOptions.SectionName, typeof(MockProviderOptions), errors);
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        builder.Services.AddMockProvider();

        // The caller's instance itself, not a copy, so that the test can change it while the server runs.
        builder.Services.AddSingleton<IOptions<MockProviderOptions>>(new OptionsWrapper<MockProviderOptions>(options));

        var app = builder.Build();
        app.MapMockProvider();
        try
        {
            await app.StartAsync(ct);
            return new MockProviderServer(app, new Uri(BoundAddress(app) + "/"), options);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops the server at once: requests still in flight (a slow stream a test walked away from) are aborted
    /// rather than waited for, so disposing never holds a test run up.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _app.StopAsync(new CancellationToken(canceled: true));
        await _app.DisposeAsync();
    }

    private static string BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        foreach (var address in addresses)
        {
            return address;
        }

        throw new InvalidOperationException("Kestrel started without a bound address.");
    }
}
