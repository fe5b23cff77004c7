using System.Text.Json;
using Microsoft.Extensions.Options;

namespace LlmGateway.MockProvider.OpenAI;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>, listing <see cref="MockProviderOptions.Models"/>.</summary>
internal sealed class ModelsEndpoint
{
    // A fixed date (2023-11-14) keeps the listing byte-for-byte stable across runs.
    private const long CreatedUnixSeconds = 1_700_000_000;

    private readonly OpenAIRequestRunner _runner;
    private readonly IOptions<MockProviderOptions> _options;
    private readonly OpenAIResponder _list;
    private readonly OpenAIResponder _get;

    public ModelsEndpoint(OpenAIRequestRunner runner, IOptions<MockProviderOptions> options)
    {
        _runner = runner;
        _options = options;
        _list = ListAsync;
        _get = GetAsync;
    }

    public Task ListAsync(HttpContext context) => _runner.RunAsync(context, _list, hasBody: false);

    public Task GetAsync(HttpContext context) => _runner.RunAsync(context, _get, hasBody: false);

    private async Task ListAsync(MockExchange exchange, JsonElement body)
    {
        await exchange.WaitForFirstTokenAsync();
        var response = exchange.Context.Response;
        response.ContentType = MockJson.ContentType;
        using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("object"u8, "list");
            json.WriteStartArray("data"u8);
            foreach (var model in Models())
            {
                WriteModel(json, model);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(exchange.Context.RequestAborted);
    }

    private async Task GetAsync(MockExchange exchange, JsonElement body)
    {
        var id = exchange.Context.Request.RouteValues["id"] as string;
        foreach (var model in Models())
        {
            if (!string.Equals(model, id, StringComparison.Ordinal))
            {
                continue;
            }

            await exchange.WaitForFirstTokenAsync();
            var response = exchange.Context.Response;
            response.ContentType = MockJson.ContentType;
            using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
            {
                WriteModel(json, model);
            }

            await response.BodyWriter.FlushAsync(exchange.Context.RequestAborted);
            return;
        }

        await OpenAIErrors.WriteAsync(
            exchange.Context,
            StatusCodes.Status404NotFound,
            $"The model '{id}' does not exist or you do not have access to it.",
            OpenAIErrors.InvalidRequest,
            "model_not_found",
            "model");
    }

    private IEnumerable<string> Models() =>
        _options.Value.Models is { Count: > 0 } configured ? configured : MockProviderOptions.DefaultModels;

    private static void WriteModel(Utf8JsonWriter json, string model)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, model);
        json.WriteString("object"u8, "model");
        json.WriteNumber("created"u8, CreatedUnixSeconds);
        json.WriteString("owned_by"u8, "mock");
        json.WriteEndObject();
    }
}
