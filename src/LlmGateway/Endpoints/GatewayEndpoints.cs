using System.Buffers;
using System.Text.Json;
using LlmGateway.Authentication;
using LlmGateway.Errors;
using LlmGateway.Providers;
using LlmGateway.Routing;

namespace LlmGateway.Endpoints;

/// <summary>The endpoints the gateway answers itself: the model list and health probes.</summary>
public static class GatewayEndpoints
{
    public static IEndpointRouteBuilder MapGatewayEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var created = endpoints.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds();

        endpoints.MapGet("/v1/models", (ModelCatalog catalog, HttpResponse response) =>
            WriteJsonAsync(response, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("object", "list");
                writer.WriteStartArray("data");
                foreach (var route in catalog.Listed)
                {
                    WriteModel(writer, route, created);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            })).RequireVirtualKey();

        endpoints.MapGet("/v1/models/{**model}", (string model, ModelCatalog catalog, HttpResponse response) =>
            catalog.Resolve(model) is { } route
                ? WriteJsonAsync(response, writer => WriteModel(writer, route, created))
                : GatewayError.ModelNotFound(model).WriteAsync(response)).RequireVirtualKey();

        endpoints.MapGet("/healthz", () => Results.Text("ok"));

        endpoints.MapGet("/readyz", (ProviderRegistry providers) => providers.AllReady
            ? Results.Text("ready")
            : Results.Text("starting: embedded providers are not up yet", statusCode: StatusCodes.Status503ServiceUnavailable));

        return endpoints;
    }

    private static void WriteModel(Utf8JsonWriter writer, ModelRoute route, long created)
    {
        writer.WriteStartObject();
        writer.WriteString("id", route.PublicModel);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", created);
        writer.WriteString("owned_by", route.Provider.Name);
        writer.WriteEndObject();
    }

    private static Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
