namespace LlmGateway.MockProvider;

// An explicit entry point (not top-level statements) keeps this assembly free of a global 'Program' type,
// which would clash with the gateway's in projects that reference both.
internal static class Program
{
    // Standalone mock: dotnet run --project src/LlmGateway.MockProvider -- --urls http://127.0.0.1:9999 --MockProvider:TokenDelayMs=20
    public static void Main(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);

        // Per-request hosting logs would cost more than the mock's own work under benchmark load.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.Services.AddMockProvider();
        builder.Services.AddOptions<MockProviderOptions>()
            .Bind(builder.Configuration.GetSection(MockProviderOptions.SectionName))
            .ValidateOnStart();

        var app = builder.Build();
        app.MapMockProvider();
        app.Run();
    }
}
