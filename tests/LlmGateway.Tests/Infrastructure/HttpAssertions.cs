using System.Net;
using System.Text;
using System.Text.Json;

namespace LlmGateway.Tests.Infrastructure;

public static class HttpAssertions
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string ChatBody(string model, bool stream = false, string question = "Say hello to the gateway.") =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model,
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = question } },
            ["stream"] = stream,
        });

    /// <summary>Asserts an error response in OpenAI's shape and returns its <c>error</c> object.</summary>
    public static async Task<JsonElement> ShouldBeOpenAiErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string? code)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(status, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        error.GetProperty("message").GetString().ShouldNotBeNullOrWhiteSpace();
        error.GetProperty("type").GetString().ShouldNotBeNullOrWhiteSpace();
        error.TryGetProperty("param", out _).ShouldBeTrue("the error has a 'param' field");
        error.TryGetProperty("code", out var actualCode).ShouldBeTrue("the error has a 'code' field");
        if (code is not null)
        {
            actualCode.GetString().ShouldBe(code);
        }

        return error.Clone();
    }
}
