using LlmGateway.GuardrailsEval;

namespace LlmGateway.Tests.Unit.Guardrails;

/// <summary>The evaluation set in tests/guardrails-eval, as a regression gate: accuracy may not fall below the bar.</summary>
public sealed class GuardrailsEvaluationTests
{
    private static string DataFile(string name) => Path.Combine(GuardrailEvaluation.DataDirectory, name);

    [Fact]
    public void Pii_HasPrecisionAndRecallOfAtLeast95Percent()
    {
        var mistakes = new List<string>();
        var overall = GuardrailEvaluation.EvaluatePii(DataFile("pii.jsonl"), mistakes).Single(s => s.Guard == "pii (all kinds)");

        (overall.TruePositives + overall.FalseNegatives).ShouldBeGreaterThan(300, "the set has hundreds of labelled values");
        overall.Samples.ShouldBeGreaterThan(500);
        overall.Recall.ShouldBeGreaterThanOrEqualTo(0.95, string.Join(Environment.NewLine, mistakes));
        overall.Precision.ShouldBeGreaterThanOrEqualTo(0.95, string.Join(Environment.NewLine, mistakes));
    }

    [Fact]
    public void Pii_EveryKindHasRecallOfAtLeast90Percent()
    {
        foreach (var score in GuardrailEvaluation.EvaluatePii(DataFile("pii.jsonl")))
        {
            score.Recall.ShouldBeGreaterThanOrEqualTo(0.9, score.Guard);
            score.Precision.ShouldBeGreaterThanOrEqualTo(0.9, score.Guard);
        }
    }

    [Fact]
    public void Injection_StaysAboveItsMeasuredAccuracy()
    {
        var mistakes = new List<string>();
        var score = GuardrailEvaluation.EvaluateInjection(DataFile("injection.jsonl"), threshold: 0.5, mistakes);

        score.Samples.ShouldBeGreaterThan(300);
        score.Precision.ShouldBeGreaterThanOrEqualTo(0.9, string.Join(Environment.NewLine, mistakes));
        score.Recall.ShouldBeGreaterThanOrEqualTo(0.9, string.Join(Environment.NewLine, mistakes));
    }
}
