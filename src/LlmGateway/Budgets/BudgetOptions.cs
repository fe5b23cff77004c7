namespace LlmGateway.Budgets;

/// <summary><c>Gateway:Budgets</c>: spend limits per virtual key id and per team.</summary>
public sealed record BudgetOptions
{
    public Dictionary<string, BudgetLimit> Keys { get; init; } = new(StringComparer.Ordinal);

    public Dictionary<string, BudgetLimit> Teams { get; init; } = new(StringComparer.Ordinal);
}

public sealed record BudgetLimit
{
    /// <summary>The most that may be spent in one period, in USD.</summary>
    public decimal LimitUsd { get; init; }

    public BudgetPeriod Period { get; init; } = BudgetPeriod.Month;
}

/// <summary>When a budget starts over, in UTC.</summary>
public enum BudgetPeriod
{
    Day,
    Month,

    /// <summary>Never: a lifetime budget.</summary>
    None,
}
