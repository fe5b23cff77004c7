using System.Buffers;
using System.Text.Json;

namespace LlmGateway.Parsing;

/// <summary>The API operation a request invokes, decided by the route it matched.</summary>
public enum LlmOperation
{
    ChatCompletions,
    Completions,
    Embeddings,
    Responses,

    /// <summary>Anthropic's Messages API, <c>POST /v1/messages</c>.</summary>
    Messages,
}

/// <summary>
/// The request body, read once and parsed once, shared by every later stage. The fields stages need most are
/// typed properties; the rest is reachable through <see cref="Root"/> without re-reading the body.
/// </summary>
public sealed class LlmRequestFeature : IDisposable
{
    private readonly JsonDocument _document;
    private byte[]? _rentedBuffer;

    internal LlmRequestFeature(LlmOperation operation, JsonDocument document, byte[] rentedBuffer, int length)
    {
        Operation = operation;
        _document = document;
        _rentedBuffer = rentedBuffer;
        Body = rentedBuffer.AsMemory(0, length);
    }

    public LlmOperation Operation { get; }

    /// <summary>The model the client asked for, as it asked.</summary>
    public required string Model { get; init; }

    /// <summary>Whether the client asked for a server-sent-event stream.</summary>
    public bool Stream { get; init; }

    /// <summary>Whether the client asked for a final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>The output cap: <c>max_completion_tokens</c>, <c>max_tokens</c> or <c>max_output_tokens</c>.</summary>
    public int? MaxOutputTokens { get; init; }

    public double? Temperature { get; init; }

    /// <summary>The end user the client named in the OpenAI <c>user</c> field.</summary>
    public string? User { get; init; }

    /// <summary>The raw body as the client sent it.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The parsed body; valid until the request ends.</summary>
    public JsonElement Root => _document.RootElement;

    public void Dispose()
    {
        _document.Dispose();
        if (_rentedBuffer is { } buffer)
        {
            _rentedBuffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
