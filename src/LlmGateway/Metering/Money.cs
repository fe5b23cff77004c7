namespace LlmGateway.Metering;

/// <summary>
/// Money in shared counters is a whole number of picodollars (10⁻¹² USD): exact for every price quoted with up to six
/// decimals per million tokens, and a 64-bit counter still holds more than nine million dollars.
/// </summary>
public static class Money
{
    private const decimal PicodollarsPerDollar = 1_000_000_000_000m;

    /// <summary>Converts USD to picodollars, rounding up so that a reservation never falls short.</summary>
    public static long ToPicodollars(decimal usd) => (long)decimal.Ceiling(usd * PicodollarsPerDollar);

    public static decimal FromPicodollars(long picodollars) => picodollars / PicodollarsPerDollar;
}
