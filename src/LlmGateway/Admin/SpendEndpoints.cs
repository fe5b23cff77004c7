using System.Buffers;
using System.Globalization;
using System.Text.Json;
using LlmGateway.Authentication;
using LlmGateway.Configuration;
using LlmGateway.Errors;
using LlmGateway.Metering;
using LlmGateway.Storage;
using Microsoft.Extensions.Options;

namespace LlmGateway.Admin;

/// <summary>
/// <c>GET /admin/spend?group_by=key|team|model|user|project|total&amp;from=…&amp;to=…</c>: metered usage and cost over a
/// time range (ISO 8601; default the last 24 hours), in whole hours. Needs the admin key (<c>Gateway:Admin:KeyHash</c>).
/// </summary>
public static class SpendEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/admin/spend", QueryAsync);
        return endpoints;
    }

    private static async Task QueryAsync(HttpContext context, ISpendStore store, IOptions<GatewayOptions> options, TimeProvider time)
    {
        var response = context.Response;
        if (!IsAdmin(context, options.Value.Admin))
        {
            await AdminDenied(options.Value.Admin).WriteAsync(response);
            return;
        }

        var query = context.Request.Query;
        if (!TryParseDimension(query["group_by"].ToString(), out var dimension))
        {
            await GatewayError.InvalidParameter("group_by", "expected one of key, team, model, user, project, total.").WriteAsync(response);
            return;
        }

        var now = time.GetUtcNow();
        if (!TryParseTime(query["from"].ToString(), now.AddDays(-1), out var from) || !TryParseTime(query["to"].ToString(), now, out var to) || to < from)
        {
            await GatewayError.InvalidParameter("from", "'from' and 'to' must be ISO 8601 times with 'from' not after 'to'.").WriteAsync(response);
            return;
        }

        IReadOnlyList<SpendRow> rows;
        try
        {
            rows = await store.QueryAsync(new SpendQuery(dimension, from, to), context.RequestAborted);
        }
        catch (Exception exception) when (RedisConnection.IsUnavailable(exception))
        {
            await new GatewayError(StatusCodes.Status503ServiceUnavailable, "The spend store (Redis) is unreachable; try again shortly.",
                GatewayError.ServerError, "spend_store_unavailable").WriteAsync(response);
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "spend");
            writer.WriteString("group_by", dimension.ToString().ToLowerInvariant());
            writer.WriteString("from", from);
            writer.WriteString("to", to);
            writer.WriteStartArray("data");
            foreach (var row in rows)
            {
                writer.WriteStartObject();
                writer.WriteString("value", row.Value);
                writer.WriteNumber("requests", row.Requests);
                writer.WriteNumber("prompt_tokens", row.PromptTokens);
                writer.WriteNumber("completion_tokens", row.CompletionTokens);
                writer.WriteNumber("cached_prompt_tokens", row.CachedPromptTokens);
                writer.WriteNumber("reasoning_tokens", row.ReasoningTokens);
                writer.WriteNumber("cost_usd", row.CostUsd);
                writer.WriteNumber("estimated_requests", row.EstimatedRequests);
                writer.WriteNumber("unpriced_requests", row.UnpricedRequests);
                writer.WriteNumber("cache_saved_usd", row.CacheSavedUsd);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static bool IsAdmin(HttpContext context, AdminOptions admin)
    {
        if (!VirtualKeyHash.TryParse(admin.KeyHash, out var expected))
        {
            return false;
        }

        var presented = VirtualKeyAuthenticationMiddleware.ReadPresentedKey(context.Request.Headers);
        return !presented.IsEmpty && VirtualKeyHash.Compute(presented).FixedTimeEquals(expected);
    }

    private static GatewayError AdminDenied(AdminOptions admin) => admin.KeyHash is null
        ? new(StatusCodes.Status403Forbidden, "The admin API is switched off: set Gateway:Admin:KeyHash to enable it.", GatewayError.InvalidRequest, "admin_disabled")
        : new(StatusCodes.Status401Unauthorized, "Incorrect admin key provided.", GatewayError.InvalidRequest, "invalid_api_key");

    private static bool TryParseDimension(string text, out SpendDimension dimension)
    {
        dimension = SpendDimension.Total;
        return text.Length == 0 || (Enum.TryParse(text, ignoreCase: true, out dimension) && Enum.IsDefined(dimension));
    }

    private static bool TryParseTime(string text, DateTimeOffset fallback, out DateTimeOffset time)
    {
        time = fallback;
        return text.Length == 0
            || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }
}
