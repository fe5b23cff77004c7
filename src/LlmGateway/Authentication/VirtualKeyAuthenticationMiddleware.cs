using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Net;
using LlmGateway.Errors;

namespace LlmGateway.Authentication;

/// <summary>Marks an endpoint as serving only clients that present a valid virtual key.</summary>
public sealed class RequireVirtualKeyMetadata
{
    public static readonly RequireVirtualKeyMetadata Instance = new();
}

/// <summary>
/// Authenticates clients by virtual key on endpoints marked with <see cref="RequireVirtualKeyMetadata"/> and
/// records who they are in <see cref="ClientIdentityFeature"/>. The key may come as
/// <c>Authorization: Bearer</c>, <c>api-key</c> (Azure SDKs) or <c>x-api-key</c> (Anthropic SDKs).
/// </summary>
internal sealed partial class VirtualKeyAuthenticationMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IVirtualKeyStore _store;
    private readonly ILogger _logger;

    public VirtualKeyAuthenticationMiddleware(RequestDelegate next, IVirtualKeyStore store, ILogger<VirtualKeyAuthenticationMiddleware> logger)
    {
        _next = next;
        _store = store;
        _logger = logger;
        if (!store.HasKeys)
        {
            LogNoKeysConfigured(logger);
        }
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequireVirtualKeyMetadata>() is null)
        {
            return _next(context);
        }

        if (!_store.HasKeys)
        {
            if (!IsLoopback(context.Connection.RemoteIpAddress))
            {
                return GatewayError.LoopbackOnly().WriteAsync(context.Response);
            }

            context.Features.Set(new ClientIdentityFeature(ClientIdentityFeature.LocalAnonymous));
            return _next(context);
        }

        var presented = ReadPresentedKey(context.Request.Headers);
        if (presented.IsEmpty)
        {
            LogRejected(_logger, "no key presented");
            return GatewayError.MissingApiKey().WriteAsync(context.Response);
        }

        var lookup = _store.FindAsync(VirtualKeyHash.Compute(presented), context.RequestAborted);
        return lookup.IsCompletedSuccessfully ? Continue(context, lookup.Result) : AwaitLookupAsync(context, lookup);
    }

    private async Task AwaitLookupAsync(HttpContext context, ValueTask<VirtualKey?> lookup) => await Continue(context, await lookup);

    private Task Continue(HttpContext context, VirtualKey? key)
    {
        if (key is null)
        {
            LogRejected(_logger, "unknown key");
            return GatewayError.InvalidApiKey().WriteAsync(context.Response);
        }

        context.Features.Set(new ClientIdentityFeature(key));
        return _next(context);
    }

    internal static ReadOnlySpan<char> ReadPresentedKey(IHeaderDictionary headers)
    {
        var authorization = headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value)
        {
            const string Bearer = "Bearer ";
            return value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? value.AsSpan(Bearer.Length).Trim() : [];
        }

        foreach (var name in (ReadOnlySpan<string>)["api-key", "x-api-key"])
        {
            if (headers.TryGetValue(name, out var header) && header.Count == 1 && header[0] is { Length: > 0 } key)
            {
                return key.AsSpan().Trim();
            }
        }

        return [];
    }

    private static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    [LoggerMessage(EventId = 100, Level = LogLevel.Warning,
        Message = "No virtual keys are configured (Gateway:VirtualKeys): only loopback clients will be served.")]
    private static partial void LogNoKeysConfigured(ILogger logger);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Rejected a request: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);
}

public static class VirtualKeyAuthenticationExtensions
{
    public static IServiceCollection AddVirtualKeys(this IServiceCollection services)
    {
        services.TryAddSingleton<IVirtualKeyStore, ConfigurationVirtualKeyStore>();
        return services;
    }

    public static IApplicationBuilder UseVirtualKeys(this IApplicationBuilder app) =>
        app.UseMiddleware<VirtualKeyAuthenticationMiddleware>();

    public static TBuilder RequireVirtualKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(RequireVirtualKeyMetadata.Instance);
}
