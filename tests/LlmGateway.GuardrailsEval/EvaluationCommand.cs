using System.Globalization;
using LlmGateway.Guardrails.Detection;

namespace LlmGateway.GuardrailsEval;

// Prints precision and recall per guard on tests/guardrails-eval, and the scanning cost per KiB.
// Usage: dotnet run -c Release --project tests/LlmGateway.GuardrailsEval [-- --mistakes]
internal static class EvaluationCommand
{
    public static void Main(string[] args)
    {
        var showMistakes = args.Contains("--mistakes");
        var directory = GuardrailEvaluation.DataDirectory;
        var piiPath = Path.Combine(directory, "pii.jsonl");
        var injectionPath = Path.Combine(directory, "injection.jsonl");
        var mistakes = showMistakes ? new List<string>() : null;

        var scores = new List<GuardScore>(GuardrailEvaluation.EvaluatePii(piiPath, mistakes))
        {
            GuardrailEvaluation.EvaluateInjection(injectionPath, threshold: 0.5, mistakes),
        };

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"guard",-18} {"precision",9} {"recall",7} {"TP",5} {"FP",4} {"FN",4}"));
        foreach (var score in scores)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{score.Guard,-18} {score.Precision,9:0.000} {score.Recall,7:0.000} {score.TruePositives,5} {score.FalsePositives,4} {score.FalseNegatives,4}"));
        }

        var piiTexts = GuardrailEvaluation.Documents(piiPath, 4096);
        var injectionTexts = GuardrailEvaluation.Documents(injectionPath, 4096);
        var matches = new List<TextMatch>();
        var pii = GuardrailEvaluation.MicrosecondsPerKiB(piiTexts, text => { matches.Clear(); PiiScanner.Scan(text, PiiEntities.All, matches); }, rounds: 100);
        var injection = GuardrailEvaluation.MicrosecondsPerKiB(injectionTexts, text => PromptInjectionScanner.Score(text), rounds: 100);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scanning cost (CPU time, one thread, eval texts joined into 4 KiB prompts, best of 5): PII {pii:0.0} µs/KiB, injection {injection:0.0} µs/KiB"));

        foreach (var entity in new[] { PiiEntities.Email, PiiEntities.Phone, PiiEntities.Card, PiiEntities.Iban, PiiEntities.Ssn, PiiEntities.Ip, PiiEntities.Secret })
        {
            var cost = GuardrailEvaluation.MicrosecondsPerKiB(piiTexts, text => { matches.Clear(); PiiScanner.Scan(text, entity, matches); }, rounds: 50);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  PII {entity,-7} alone {cost,6:0.0} µs/KiB"));
        }

        if (mistakes is not null)
        {
            Console.WriteLine();
            foreach (var mistake in mistakes)
            {
                Console.WriteLine(mistake);
            }
        }
    }
}
