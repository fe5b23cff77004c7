namespace LlmGateway.Routing;

/// <summary>
/// An exponentially weighted moving average of a deployment's time to response headers, updated lock-free by
/// concurrent requests. Recent samples weigh most, so a deployment that slows down loses traffic within a few requests.
/// </summary>
internal sealed class LatencyAverage
{
    private const double Weight = 0.3;

    private long _averageBits = BitConverter.DoubleToInt64Bits(double.NaN);

    /// <summary>The average in milliseconds; NaN until the first sample.</summary>
    public double Milliseconds => BitConverter.Int64BitsToDouble(Volatile.Read(ref _averageBits));

    public void Add(TimeSpan sample)
    {
        var value = sample.TotalMilliseconds;
        while (true)
        {
            var currentBits = Volatile.Read(ref _averageBits);
            var current = BitConverter.Int64BitsToDouble(currentBits);
            var next = double.IsNaN(current) ? value : current + (Weight * (value - current));
            if (Interlocked.CompareExchange(ref _averageBits, BitConverter.DoubleToInt64Bits(next), currentBits) == currentBits)
            {
                return;
            }
        }
    }
}
