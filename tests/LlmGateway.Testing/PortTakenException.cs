namespace LlmGateway.Testing;

/// <summary>A server could not bind the free port it was given, because another process took it first.</summary>
internal sealed class PortTakenException(string message) : InvalidOperationException(message);
