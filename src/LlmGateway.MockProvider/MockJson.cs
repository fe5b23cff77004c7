using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmGateway.MockProvider;

internal static class MockJson
{
    /// <summary>
    /// Relaxed escaping writes text as UTF-8 the way OpenAI does (no <c>\u0027</c> for an apostrophe); nothing the
    /// mock writes is embedded in HTML.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const string ContentType = "application/json";
}
