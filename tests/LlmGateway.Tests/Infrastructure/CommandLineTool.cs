using System.ComponentModel;
using System.Diagnostics;

namespace LlmGateway.Tests.Infrastructure;

/// <summary>Runs an installed command-line tool (promtool, docker-compose) to completion and captures what it printed.</summary>
public static class CommandLineTool
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string tool, string? workingDirectory, string? standardInput, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool, arguments)
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardInput = standardInput is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"'{tool}' did not start.");
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException($"'{tool}' is not installed; run ./test.sh, whose tests/infra scripts install it.", exception);
        }

        using (process)
        {
            var cancel = TestContext.Current.CancellationToken;
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput);
                process.StandardInput.Close();
            }

            var output = process.StandardOutput.ReadToEndAsync(cancel);
            var errors = process.StandardError.ReadToEndAsync(cancel);
            await process.WaitForExitAsync(cancel);
            return (process.ExitCode, await output + await errors);
        }
    }
}
