namespace LlmGateway.MockProvider;

/// <summary>Numbers responses so their ids are unique per server and predictable after <c>POST /mock/reset</c>.</summary>
internal sealed class MockSequence
{
    private long _last;

    public long Next() => Interlocked.Increment(ref _last);

    public void Reset() => Interlocked.Exchange(ref _last, 0);
}
