using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace LlmGateway.Telemetry;

/// <summary>
/// Renders OpenTelemetry metrics in the Prometheus text exposition format (version 0.0.4). The exporter
/// packages that do this are not available to the project, and the format is small: names translated per the
/// OpenTelemetry-to-Prometheus compatibility rules (dots to underscores, unit suffix, <c>_total</c> on counters),
/// histograms as cumulative <c>_bucket</c>/<c>_sum</c>/<c>_count</c> series. It runs only when a scrape calls
/// <see cref="MetricReader.Collect"/>; it is not marked pull-only because OpenTelemetry then refuses a direct
/// <c>Collect</c> call.
/// </summary>
internal sealed class PrometheusTextExporter : BaseExporter<Metric>
{
    private readonly StringBuilder _text = new(16 * 1024);

    /// <summary>Set by the reader's owner: the text of the last collection.</summary>
    public string LastScrape { get; private set; } = "";

    public override ExportResult Export(in Batch<Metric> batch)
    {
        _text.Clear();
        foreach (var metric in batch)
        {
            Render(_text, metric);
        }

        LastScrape = _text.ToString();
        return ExportResult.Success;
    }

    internal static void Render(StringBuilder text, Metric metric)
    {
        var type = metric.MetricType;
        var isCounter = type is MetricType.LongSum or MetricType.DoubleSum;
        var isHistogram = type == MetricType.Histogram;
        var isGauge = type is MetricType.LongGauge or MetricType.DoubleGauge or MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic;
        if (!isCounter && !isHistogram && !isGauge)
        {
            // Exponential histograms have no text-format equivalent; the gateway configures none.
            return;
        }

        var name = MetricName(metric.Name, metric.Unit, isCounter);
        if (!string.IsNullOrEmpty(metric.Description))
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(metric.Description)).Append('\n');
        }

        text.Append("# TYPE ").Append(name).Append(isCounter ? " counter\n" : isHistogram ? " histogram\n" : " gauge\n");
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            if (isHistogram)
            {
                long cumulative = 0;
                foreach (var bucket in point.GetHistogramBuckets())
                {
                    cumulative += bucket.BucketCount;
                    text.Append(name).Append("_bucket");
                    AppendLabels(text, point.Tags, double.IsPositiveInfinity(bucket.ExplicitBound) ? "+Inf" : Number(bucket.ExplicitBound));
                    text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }

                text.Append(name).Append("_sum");
                AppendLabels(text, point.Tags, null);
                text.Append(' ').Append(Number(point.GetHistogramSum())).Append('\n');
                text.Append(name).Append("_count");
                AppendLabels(text, point.Tags, null);
                text.Append(' ').Append(point.GetHistogramCount().ToString(CultureInfo.InvariantCulture)).Append('\n');
                continue;
            }

            text.Append(name);
            AppendLabels(text, point.Tags, null);
            text.Append(' ').Append(type switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong().ToString(CultureInfo.InvariantCulture),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => Number(point.GetSumDouble()),
                MetricType.LongGauge => point.GetGaugeLastValueLong().ToString(CultureInfo.InvariantCulture),
                _ => Number(point.GetGaugeLastValueDouble()),
            }).Append('\n');
        }
    }

    /// <summary><c>gen_ai.client.token.usage</c> + <c>{token}</c> → <c>gen_ai_client_token_usage</c>; <c>s</c> → <c>_seconds</c>.</summary>
    internal static string MetricName(string name, string? unit, bool isCounter)
    {
        var builder = new StringBuilder(name.Length + 16);
        AppendSanitized(builder, name);
        var suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !builder.ToString().EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            builder.Append('_').Append(suffix);
        }

        if (isCounter)
        {
            builder.Append("_total");
        }

        return builder.ToString();
    }

    private static string UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" => "",
        _ when unit.StartsWith('{') => "",
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        "USD" => "usd",
        _ => Sanitize(unit).ToLowerInvariant(),
    };

    private static void AppendLabels(StringBuilder text, ReadOnlyTagCollection tags, string? le)
    {
        if (tags.Count == 0 && le is null)
        {
            return;
        }

        text.Append('{');
        var first = true;
        foreach (var tag in tags)
        {
            if (!first)
            {
                text.Append(',');
            }

            first = false;
            AppendSanitized(text, tag.Key);
            text.Append("=\"");
            AppendEscapedValue(text, Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "");
            text.Append('"');
        }

        if (le is not null)
        {
            text.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
        }

        text.Append('}');
    }

    private static void AppendSanitized(StringBuilder builder, string name)
    {
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var valid = char.IsAsciiLetterOrDigit(c) || c is '_' or ':';
            builder.Append(valid && !(i == 0 && char.IsAsciiDigit(c)) ? c : '_');
        }
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        AppendSanitized(builder, name);
        return builder.ToString();
    }

    private static void AppendEscapedValue(StringBuilder text, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => text.Append("\\\\"),
                '"' => text.Append("\\\""),
                '\n' => text.Append("\\n"),
                _ => text.Append(c),
            };
        }
    }

    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
