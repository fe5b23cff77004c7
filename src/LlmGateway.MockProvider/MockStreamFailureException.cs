namespace LlmGateway.MockProvider;

/// <summary>
/// Thrown on purpose to break a stream mid-way, as an upstream that dies does (<c>x-mock-fail-after-tokens</c>).
/// Hosts see it as an unhandled exception after the response started, which is what makes Kestrel cut the stream.
/// </summary>
public sealed class MockStreamFailureException : Exception
{
    public MockStreamFailureException()
        : base("Simulated upstream failure mid-stream (x-mock-fail-after-tokens).")
    {
    }

    public MockStreamFailureException(string message)
        : base(message)
    {
    }

    public MockStreamFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal MockStreamFailureException(int tokensSent)
        : base($"Simulated upstream failure after {tokensSent} streamed token(s) (x-mock-fail-after-tokens).")
    {
    }
}
