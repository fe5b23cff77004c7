using System.Diagnostics;
using System.Text.Json;
using LlmGateway.Guardrails.Detection;

namespace LlmGateway.GuardrailsEval;

/// <summary>Precision and recall of one guard (or one PII kind) on the evaluation set.</summary>
public sealed record GuardScore(string Guard, int TruePositives, int FalsePositives, int FalseNegatives, int Samples)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);

    public double Recall => TruePositives + FalseNegatives == 0 ? 1 : (double)TruePositives / (TruePositives + FalseNegatives);
}

/// <summary>
/// Runs the guards over the labelled samples in <c>tests/guardrails-eval</c>. PII is scored per entity: a detection
/// counts when it overlaps a labelled value of the same kind; any other detection is a false positive. Injection is
/// scored per sample at the given threshold.
/// </summary>
public static class GuardrailEvaluation
{
    public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "guardrails-eval");

    public static IReadOnlyList<GuardScore> EvaluatePii(string path, List<string>? mistakes = null)
    {
        var counts = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var samples = 0;
        var found = new List<TextMatch>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            samples++;
            using var document = JsonDocument.Parse(line);
            var text = document.RootElement.GetProperty("text").GetString()!;
            var labels = new List<(string Type, int Start, int End)>();
            foreach (var entity in document.RootElement.GetProperty("entities").EnumerateArray())
            {
                var value = entity.GetProperty("value").GetString()!;
                var start = text.IndexOf(value, StringComparison.Ordinal);
                labels.Add((entity.GetProperty("type").GetString()!, start, start + value.Length));
            }

            found.Clear();
            PiiScanner.Scan(text, PiiEntities.All, found);
            foreach (var label in labels)
            {
                var hit = found.Exists(m => m.Label == label.Type && m.Start < label.End && label.Start < m.End);
                Count(counts, label.Type)[hit ? 0 : 2]++;
                if (!hit)
                {
                    mistakes?.Add($"missed {label.Type}: {text}");
                }
            }

            foreach (var match in found)
            {
                if (!labels.Exists(l => l.Type == match.Label && match.Start < l.End && l.Start < match.End))
                {
                    Count(counts, match.Label)[1]++;
                    mistakes?.Add($"false {match.Label} '{text.Substring(match.Start, match.Length)}': {text}");
                }
            }
        }

        var scores = new List<GuardScore>();
        int tp = 0, fp = 0, fn = 0;
        foreach (var (type, c) in counts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            scores.Add(new GuardScore("pii." + type.ToLowerInvariant(), c[0], c[1], c[2], samples));
            tp += c[0];
            fp += c[1];
            fn += c[2];
        }

        scores.Add(new GuardScore("pii (all kinds)", tp, fp, fn, samples));
        return scores;
    }

    public static GuardScore EvaluateInjection(string path, double threshold, List<string>? mistakes = null)
    {
        int tp = 0, fp = 0, fn = 0, samples = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            samples++;
            using var document = JsonDocument.Parse(line);
            var text = document.RootElement.GetProperty("text").GetString()!;
            var expected = document.RootElement.GetProperty("injection").GetBoolean();
            var score = PromptInjectionScanner.Score(text);
            var flagged = score >= threshold;
            if (flagged && expected)
            {
                tp++;
            }
            else if (flagged)
            {
                fp++;
                mistakes?.Add($"false positive ({score:0.00}): {text}");
            }
            else if (expected)
            {
                fn++;
                mistakes?.Add($"missed ({score:0.00}): {text}");
            }
        }

        return new GuardScore("injection", tp, fp, fn, samples);
    }

    /// <summary>
    /// CPU microseconds per KiB of UTF-16 text to scan <paramref name="documents"/> with <paramref name="scan"/>, the
    /// best of five passes. CPU time rather than wall time: on a shared machine a descheduled thread's wall time
    /// says more about the neighbours than about the scanner.
    /// </summary>
    public static double MicrosecondsPerKiB(IReadOnlyList<string> documents, Action<string> scan, int rounds)
    {
        long chars = 0;
        foreach (var document in documents)
        {
            chars += document.Length;
        }

        // Long enough for tiered compilation to reach optimized code even when the machine is busy: a gateway is a
        // long-running process, so that is the code it runs.
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed < TimeSpan.FromSeconds(2))
        {
            foreach (var document in documents)
            {
                scan(document);
            }
        }

        var best = double.MaxValue;
        for (var pass = 0; pass < 5; pass++)
        {
            using var process = Process.GetCurrentProcess();
            var start = process.TotalProcessorTime;
            for (var round = 0; round < rounds; round++)
            {
                foreach (var document in documents)
                {
                    scan(document);
                }
            }

            process.Refresh();
            best = Math.Min(best, (process.TotalProcessorTime - start).TotalMicroseconds / (chars * rounds / 1024.0));
        }

        return best;
    }

    /// <summary>The samples' texts joined into prompts of about <paramref name="size"/> characters, as a gateway sees them.</summary>
    public static List<string> Documents(string path, int size)
    {
        var documents = new List<string>();
        var builder = new System.Text.StringBuilder(size + 256);
        foreach (var text in Texts(path))
        {
            builder.Append(text).Append('\n');
            if (builder.Length >= size)
            {
                documents.Add(builder.ToString());
                builder.Clear();
            }
        }

        if (builder.Length > 0)
        {
            documents.Add(builder.ToString());
        }

        return documents;
    }

    private static int[] Count(Dictionary<string, int[]> counts, string type)
    {
        if (!counts.TryGetValue(type, out var c))
        {
            counts[type] = c = new int[3];
        }

        return c;
    }

    public static List<string> Texts(string path)
    {
        var texts = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                using var document = JsonDocument.Parse(line);
                texts.Add(document.RootElement.GetProperty("text").GetString()!);
            }
        }

        return texts;
    }
}
