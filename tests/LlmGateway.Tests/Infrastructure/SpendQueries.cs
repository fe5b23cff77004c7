using System.Diagnostics;
using System.Text.Json;

namespace LlmGateway.Tests.Infrastructure;

public static class SpendQueries
{
    /// <summary>
    /// The row of <paramref name="value"/> in <c>/admin/spend?group_by=<paramref name="groupBy"/></c> once it counts at
    /// least <paramref name="requests"/> requests: metering writes after the response, so a row can lag its requests.
    /// </summary>
    public static async Task<JsonElement> SpendRowAsync(this GatewayServer gateway, string adminKey, string groupBy, string value, long requests = 1)
    {
        var cancel = TestContext.Current.CancellationToken;
        using var admin = gateway.CreateHttpClient(adminKey);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            using var spend = JsonDocument.Parse(await admin.GetStringAsync(new Uri($"admin/spend?group_by={groupBy}", UriKind.Relative), cancel));
            foreach (var row in spend.RootElement.GetProperty("data").EnumerateArray())
            {
                if (row.GetProperty("value").GetString() == value && row.GetProperty("requests").GetInt64() >= requests)
                {
                    return row.Clone();
                }
            }

            waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), $"spend of {groupBy} '{value}' with {requests} request(s)");
            await Task.Delay(20, cancel);
        }
    }
}
