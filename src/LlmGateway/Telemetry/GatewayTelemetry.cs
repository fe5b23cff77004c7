using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace LlmGateway.Telemetry;

/// <summary>
/// The gateway's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, named once. Stages create their
/// spans and instruments from these so that exporters pick everything up under a single name.
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "LlmGateway";

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(Name);
    }

    public static ActivitySource ActivitySource { get; } = new(Name);

    public Meter Meter { get; }

    public void Dispose() => Meter.Dispose();
}
