namespace LlmGateway.Caching;

/// <summary>Replays a cached event stream, leaving out the usage-only chunk when this client's stream has none.</summary>
internal static class CachedEventStream
{
    public static async Task WriteAsync(Stream body, ReadOnlyMemory<byte> events, bool includeUsage, CancellationToken cancellationToken)
    {
        if (includeUsage)
        {
            await body.WriteAsync(events, cancellationToken);
            return;
        }

        var start = 0;
        while (start < events.Length)
        {
            var end = EventEnd(events.Span, start);
            if (!IsUsageOnly(events.Span[start..end]))
            {
                await body.WriteAsync(events[start..end], cancellationToken);
            }

            start = end;
        }
    }

    private static int EventEnd(ReadOnlySpan<byte> events, int start)
    {
        var separator = events[start..].IndexOf("\n\n"u8);
        return separator < 0 ? events.Length : start + separator + 2;
    }

    // OpenAI's usage chunk: no choices, a usage object.
    private static bool IsUsageOnly(ReadOnlySpan<byte> rawEvent) =>
        rawEvent.IndexOf("\"choices\":[]"u8) >= 0 && rawEvent.IndexOf("\"usage\":{"u8) >= 0;
}
