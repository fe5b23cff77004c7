using System.Text.Json;

namespace LlmGateway.MockProvider;

/// <summary><c>GET /mock/stats</c> and <c>POST /mock/reset</c>: the test-facing side of <see cref="MockProviderStats"/>.</summary>
internal sealed class MockStatsEndpoints(MockProviderStats stats, MockSequence sequence)
{
    public async Task GetAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = MockJson.ContentType;
        using (var json = new Utf8JsonWriter(response.BodyWriter, MockJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("totalRequests"u8, stats.TotalRequests);
            json.WriteStartObject("requestsByPath"u8);
            foreach (var (requestPath, count) in stats.RequestsByPath)
            {
                json.WriteNumber(requestPath, count);
            }

            json.WriteEndObject();
            var (method, path, headers) = stats.GetLastRequest();
            json.WriteString("lastRequestMethod"u8, method);
            json.WriteString("lastRequestPath"u8, path);
            json.WriteStartObject("lastRequestHeaders"u8);
            foreach (var (name, value) in headers)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>Zeroes the stats and restarts response numbering, so a test sees <c>chatcmpl-mock-1</c> again.</summary>
    public Task ResetAsync(HttpContext context)
    {
        stats.Reset();
        sequence.Reset();
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }
}
