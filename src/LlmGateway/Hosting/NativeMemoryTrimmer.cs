using System.Runtime.InteropServices;
using LlmGateway.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Hosting;

/// <summary>
/// Gives the C heap's free pages back to the operating system every <see cref="GatewayOptions.NativeMemoryTrimInterval"/>
/// (glibc's <c>malloc_trim</c>), so that the resident set stays flat once the gateway has warmed up.
/// </summary>
/// <remarks>
/// <para>Under load the runtime keeps compiling hot methods again, with full optimisation, for minutes after start-up
/// (tiered compilation with profile-guided optimisation). Each compilation borrows 64 KiB blocks of C heap, and a burst of
/// them left 3-10 MiB of freed blocks resident in glibc's per-thread arenas: freed, but between live allocations, so glibc
/// kept the pages (docs/benchmarks.md, the soak). <c>malloc_trim</c> returns every whole free page of every arena.</para>
/// <para>Only where the C library is glibc (the container image's, and most Linux distributions'); elsewhere the
/// service logs once at Debug and stops. A trim takes the arenas' locks one at a time and runs on a thread-pool thread,
/// never on a request's.</para>
/// </remarks>
internal sealed partial class NativeMemoryTrimmer(IOptions<GatewayOptions> options, TimeProvider time, ILogger<NativeMemoryTrimmer> logger)
    : BackgroundService
{
    private const string GlibcName = "libc.so.6";

    private static readonly Lazy<bool> s_available = new(FindMallocTrim);

    /// <summary>True where the C library is glibc and exports <c>malloc_trim</c>.</summary>
    public static bool IsAvailable => s_available.Value;

    /// <summary>Returns the C heap's free pages to the operating system now; true if glibc released any.</summary>
    public static bool TrimNow() => IsAvailable && MallocTrim(0) == 1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.NativeMemoryTrimInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        if (!IsAvailable)
        {
            LogUnavailable(logger);
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var started = time.GetTimestamp();
            var released = TrimNow();
            LogTrimmed(logger, released, time.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private static bool FindMallocTrim() =>
        OperatingSystem.IsLinux()
        && NativeLibrary.TryLoad(GlibcName, out var glibc)
        && NativeLibrary.TryGetExport(glibc, "malloc_trim", out _);

    [DllImport(GlibcName, EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [LoggerMessage(EventId = 950, Level = LogLevel.Debug, Message = "The C library has no malloc_trim (not glibc); native memory is not trimmed")]
    private static partial void LogUnavailable(ILogger logger);

    [LoggerMessage(EventId = 951, Level = LogLevel.Debug, Message = "Native heap trimmed in {ElapsedMs:0.000} ms; pages released: {Released}")]
    private static partial void LogTrimmed(ILogger logger, bool released, double elapsedMs);
}
