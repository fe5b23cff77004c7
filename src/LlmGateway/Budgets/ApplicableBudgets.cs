using LlmGateway.Authentication;
using LlmGateway.Configuration;
using Microsoft.Extensions.Options;

namespace LlmGateway.Budgets;

/// <summary>
/// The configured budgets, indexed once, and which of them a request's virtual key and team answer to. Shared by the
/// budget stage and its lookahead, so both reserve on the same counters.
/// </summary>
internal sealed class ApplicableBudgets(IOptions<GatewayOptions> options)
{
    private readonly Dictionary<string, ConfiguredBudget> _keyBudgets = ConfiguredBudget.Index(options.Value.Budgets.Keys, "virtual key", "key");
    private readonly Dictionary<string, ConfiguredBudget> _teamBudgets = ConfiguredBudget.Index(options.Value.Budgets.Teams, "team", "team");

    /// <summary>The budgets of <paramref name="key"/> and its team in the period <paramref name="now"/> falls in; null when it has none.</summary>
    public BudgetsOfRequest? For(VirtualKey key, DateTimeOffset now)
    {
        var keyBudget = _keyBudgets.GetValueOrDefault(key.Id);
        var teamBudget = key.Team is null ? null : _teamBudgets.GetValueOrDefault(key.Team);
        if (keyBudget is null && teamBudget is null)
        {
            return null;
        }

        BudgetCounter[] counters = keyBudget is null ? [teamBudget!.CounterAt(now)]
            : teamBudget is null ? [keyBudget.CounterAt(now)]
            : [keyBudget.CounterAt(now), teamBudget.CounterAt(now)];
        return new BudgetsOfRequest(counters, keyBudget, teamBudget);
    }
}

/// <summary>A request's budget counters: its key's, if the key has a budget, then its team's, if the team has one.</summary>
internal sealed record BudgetsOfRequest(BudgetCounter[] Counters, ConfiguredBudget? KeyBudget, ConfiguredBudget? TeamBudget)
{
    /// <summary>The budget whose counter refused a reservation.</summary>
    public ConfiguredBudget RefusedBy(int counter) => counter == 0 ? KeyBudget ?? TeamBudget! : TeamBudget!;
}
