namespace LlmGateway.Guardrails.Detection;

/// <summary>A span of scanned text that a guard matched, with the label its placeholder carries (<c>EMAIL</c> → <c>[EMAIL]</c>).</summary>
public readonly record struct TextMatch(int Start, int Length, string Label)
{
    public int End => Start + Length;

    public bool Overlaps(TextMatch other) => Start < other.End && other.Start < End;
}
