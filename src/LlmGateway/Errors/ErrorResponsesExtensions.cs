namespace LlmGateway.Errors;

public static class ErrorResponsesExtensions
{
    /// <summary>Answers every failure, the framework's and the forwarder's included, in OpenAI's error shape.</summary>
    public static IApplicationBuilder UseOpenAiErrorResponses(this IApplicationBuilder app) =>
        app.UseMiddleware<ErrorResponsesMiddleware>();
}
