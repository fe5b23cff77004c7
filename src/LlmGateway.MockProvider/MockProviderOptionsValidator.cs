using System.Globalization;
using Microsoft.Extensions.Options;

namespace LlmGateway.MockProvider;

/// <summary>Reports every invalid <see cref="MockProviderOptions"/> value at once, each naming its configuration key.</summary>
internal sealed class MockProviderOptionsValidator : IValidateOptions<MockProviderOptions>
{
    private const string Section = MockProviderOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, MockProviderOptions options)
    {
        var errors = Collect(options);
        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(string.Create(CultureInfo.InvariantCulture,
                $"The mock provider configuration has {errors.Count} error(s):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", errors)}"));
    }

    internal static List<string> Collect(MockProviderOptions options)
    {
        var errors = new List<string>();

        if (options.TimeToFirstTokenMs < 0)
        {
            errors.Add($"{Section}:TimeToFirstTokenMs must be >= 0 (got {options.TimeToFirstTokenMs}).");
        }

        if (options.TokenDelayMs < 0)
        {
            errors.Add($"{Section}:TokenDelayMs must be >= 0 (got {options.TokenDelayMs}).");
        }

        if (options.CompletionTokens is < 0 or > MockProviderOptions.MaxCompletionTokens)
        {
            errors.Add($"{Section}:CompletionTokens must be between 0 and {MockProviderOptions.MaxCompletionTokens} (got {options.CompletionTokens}).");
        }

        if (options.ErrorStatus is { } status && !MockKnobs.IsErrorStatus(status))
        {
            errors.Add($"{Section}:ErrorStatus must be an HTTP error status between 400 and 599 (got {status}).");
        }

        if (options.RetryAfterSeconds < 0)
        {
            errors.Add($"{Section}:RetryAfterSeconds must be >= 0 (got {options.RetryAfterSeconds}).");
        }

        if (options.FailAfterTokens < 0)
        {
            errors.Add($"{Section}:FailAfterTokens must be >= 0 (got {options.FailAfterTokens}).");
        }

        if (options.FailNextRequests < 0)
        {
            errors.Add($"{Section}:FailNextRequests must be >= 0 (got {options.FailNextRequests}).");
        }

        if (!MockKnobs.IsErrorStatus(options.FailNextStatus))
        {
            errors.Add($"{Section}:FailNextStatus must be an HTTP error status between 400 and 599 (got {options.FailNextStatus}).");
        }

        if (options.RequiredApiKey is { Length: 0 })
        {
            errors.Add($"{Section}:RequiredApiKey must not be empty: leave it unset to accept any key.");
        }

        if (options.EmbeddingDimensions is < 1 or > MockProviderOptions.MaxEmbeddingDimensions)
        {
            errors.Add($"{Section}:EmbeddingDimensions must be between 1 and {MockProviderOptions.MaxEmbeddingDimensions} (got {options.EmbeddingDimensions}).");
        }

        for (var i = 0; i < options.Models.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.Models[i]))
            {
                errors.Add($"{Section}:Models:{i} must not be empty.");
            }
        }

        return errors;
    }
}
