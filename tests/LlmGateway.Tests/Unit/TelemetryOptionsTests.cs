using LlmGateway.Telemetry;
using OpenTelemetry.Exporter;

namespace LlmGateway.Tests.Unit;

public sealed class TelemetryOptionsTests
{
    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    public void ANonPositiveBudgetRefreshInterval_IsRefused_NamingTheKey(string interval)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { BudgetRefreshInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) });

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain("Gateway:Telemetry:BudgetRefreshInterval");
    }

    [Theory]
    [InlineData(-0.1, false)]
    [InlineData(1.5, false)]
    [InlineData(double.NaN, false)]
    [InlineData(0.0, true)]
    [InlineData(0.25, true)]
    [InlineData(1.0, true)]
    public void TheTraceSampleRatio_IsAShareBetweenZeroAndOne(double ratio, bool valid)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { TraceSampleRatio = ratio });

        result.Failed.ShouldBe(!valid);
        if (!valid)
        {
            result.FailureMessage!.ShouldContain("Gateway:Telemetry:TraceSampleRatio must be between 0 and 1");
        }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(2049, false)]
    [InlineData(1, true)]
    [InlineData(2048, true)]
    public void TheTraceExportBatchSize_FitsInTheExportQueue(int size, bool valid)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { TraceExportBatchSize = size });

        result.Failed.ShouldBe(!valid);
        if (!valid)
        {
            result.FailureMessage!.ShouldContain("Gateway:Telemetry:TraceExportBatchSize must be between 1 and 2048");
        }
    }

    [Theory]
    [InlineData("http://collector:4318", "http://collector:4318/v1/traces", "http://collector:4318/v1/metrics")]
    [InlineData("http://collector:4318/otlp/", "http://collector:4318/otlp/v1/traces", "http://collector:4318/otlp/v1/metrics")]
    public void OverHttp_EachSignalGoesToItsOwnPath_UnderTheConfiguredBase(string endpoint, string traces, string metrics)
    {
        var settings = new TelemetryOptions { OtlpEndpoint = endpoint, OtlpProtocol = OtlpExportProtocol.HttpProtobuf };
        var traceExporter = new OtlpExporterOptions();
        var metricExporter = new OtlpExporterOptions();

        TelemetryProviders.Configure(traceExporter, settings, "v1/traces");
        TelemetryProviders.Configure(metricExporter, settings, "v1/metrics");

        traceExporter.Endpoint.ShouldBe(new Uri(traces));
        metricExporter.Endpoint.ShouldBe(new Uri(metrics));
        traceExporter.Protocol.ShouldBe(OtlpExportProtocol.HttpProtobuf);
    }

    [Fact]
    public void OverGrpc_TheEndpointIsUsedAsItIs()
    {
        var exporter = new OtlpExporterOptions();

        TelemetryProviders.Configure(exporter, new TelemetryOptions { OtlpEndpoint = "http://collector:4317" }, "v1/traces");

        exporter.Endpoint.ShouldBe(new Uri("http://collector:4317"));
        exporter.Protocol.ShouldBe(OtlpExportProtocol.Grpc);
    }
}
