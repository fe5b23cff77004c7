using System.Buffers;
using LlmGateway.Responses;

namespace LlmGateway.Guardrails.Streaming;

/// <summary>
/// Applies a request's streaming output guards inside the gateway: every <c>chat.completion.chunk</c> the upstream
/// streams passes through <see cref="StreamingChatGuardrail.RewriteChunk"/> before the client sees it.
/// </summary>
internal sealed class StreamingGuardrailObserver(StreamingChatGuardrail guardrail) : IResponseEventRewriter
{
    public bool OnEvent(in ServerSentEvent serverSentEvent) => true;

    public void OnBody(ReadOnlySpan<byte> body)
    {
    }

    public EventRewrite Rewrite(in ServerSentEvent serverSentEvent, IBufferWriter<byte> replacementData)
    {
        if (serverSentEvent.IsDone || serverSentEvent.Data.IsEmpty)
        {
            return EventRewrite.Unchanged;
        }

        return guardrail.RewriteChunk(serverSentEvent.Data, replacementData) switch
        {
            ChunkRewrite.Rewritten => EventRewrite.Replaced,
            ChunkRewrite.Blocked => EventRewrite.ReplacedAndEnded,
            _ => EventRewrite.Unchanged,
        };
    }
}
