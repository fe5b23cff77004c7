using System.Globalization;
using System.Runtime.InteropServices;
using LlmGateway.Configuration;
using LlmGateway.Hosting;
using Microsoft.Extensions.Configuration;

namespace LlmGateway.Tests.Unit;

/// <summary><c>Gateway:NativeMemoryTrimInterval</c>: the C heap's free pages go back to the operating system.</summary>
public sealed class NativeMemoryTrimmerTests
{
    private const int BlockBytes = 64 * 1024;
    private const int Blocks = 256;

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:00:00.500")]
    [InlineData("2.00:00:00")]
    public void AnIntervalOutsideTheRange_IsAStartUpError(string interval)
    {
        var errors = GatewayOptionsValidator.Collect(new GatewayOptions { NativeMemoryTrimInterval = TimeSpan.Parse(interval, CultureInfo.InvariantCulture) },
            new ConfigurationBuilder().Build());

        errors.ShouldContain(e => e.StartsWith("Gateway:NativeMemoryTrimInterval must be zero (off) or between", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:00:30")]
    [InlineData("1.00:00:00")]
    public void ZeroOrAnIntervalInTheRange_IsAccepted(string interval)
    {
        var errors = GatewayOptionsValidator.Collect(new GatewayOptions { NativeMemoryTrimInterval = TimeSpan.Parse(interval, CultureInfo.InvariantCulture) },
            new ConfigurationBuilder().Build());

        errors.ShouldNotContain(e => e.Contains("NativeMemoryTrimInterval", StringComparison.Ordinal));
    }

    /// <summary>
    /// The shape the soak showed: 64 KiB blocks (the JIT's) freed between live allocations stay resident until trimmed.
    /// 16 MiB of such blocks are written, each followed by a live block of the same size that keeps glibc from merging it
    /// into free space it would trim by itself; the blocks are freed, and a trim must give at least 12 MiB back (other
    /// tests in the process may allocate meanwhile).
    /// </summary>
    [Fact]
    public void FreedBlocksBetweenLiveOnes_AreGivenBackByATrim()
    {
        NativeMemoryTrimmer.IsAvailable.ShouldBeTrue("the test machines' C library is glibc");
        var content = new byte[BlockBytes];
        Array.Fill(content, (byte)0x5a);
        var freed = new nint[Blocks];
        var live = new nint[Blocks];
        try
        {
            for (var i = 0; i < Blocks; i++)
            {
                freed[i] = Marshal.AllocHGlobal(BlockBytes); // malloc
                Marshal.Copy(content, 0, freed[i], BlockBytes);
                live[i] = Marshal.AllocHGlobal(BlockBytes);
            }

            for (var i = 0; i < Blocks; i++)
            {
                Marshal.FreeHGlobal(freed[i]);
                freed[i] = 0;
            }

            var before = ResidentAnonymousKiB();
            NativeMemoryTrimmer.TrimNow().ShouldBeTrue();
            var released = before - ResidentAnonymousKiB();

            released.ShouldBeGreaterThanOrEqualTo(12 * 1024);
        }
        finally
        {
            foreach (var block in freed.Concat(live).Where(b => b != 0))
            {
                Marshal.FreeHGlobal(block);
            }
        }
    }

    private static long ResidentAnonymousKiB()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
