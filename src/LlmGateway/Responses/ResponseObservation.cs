using Microsoft.AspNetCore.Http.Features;

namespace LlmGateway.Responses;

/// <summary>
/// The extension point for stages that watch the response: the first <see cref="Observe"/> of a request wraps its
/// <see cref="IHttpResponseBodyFeature"/> (as ASP.NET Core's output caching does), later ones join the same wrapper.
/// The stage that called <see cref="Observe"/> first must call <see cref="CompleteAsync"/> after the rest of the
/// pipeline, which hands a held-back JSON body to the observers and then to the client.
/// </summary>
public static class ResponseObservation
{
    /// <summary>Largest JSON body held back for observers; a larger one passes through unobserved.</summary>
    public const int MaxObservedBodyBytes = 8 * 1024 * 1024;

    /// <summary>Adds <paramref name="observer"/> to the request's response observation; returns whether this call installed it.</summary>
    public static bool Observe(HttpContext context, IResponseObserver observer)
    {
        if (context.Features.Get<IHttpResponseBodyFeature>() is ObservedResponseBody existing)
        {
            existing.Add(observer);
            return false;
        }

        var body = new ObservedResponseBody(context, MaxObservedBodyBytes);
        body.Add(observer);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        return true;
    }

    /// <summary>
    /// Ends the observation: passes a held-back body through the observers to the client (when
    /// <paramref name="deliver"/>), forwards the bytes of an unfinished event, and restores the original feature.
    /// </summary>
    public static async Task CompleteAsync(HttpContext context, bool deliver)
    {
        if (context.Features.Get<IHttpResponseBodyFeature>() is not ObservedResponseBody body)
        {
            return;
        }

        try
        {
            await body.FinishAsync(deliver);
        }
        finally
        {
            context.Features.Set(body.Inner);
            body.ReleaseBuffers();
        }
    }

    /// <summary>
    /// Runs <paramref name="next"/> with <paramref name="observer"/> watching the response. When this call installed
    /// the observation (no outer stage had), it also completes it, delivering a held-back body only if
    /// <paramref name="next"/> completed.
    /// </summary>
    public static async Task ObserveAsync(HttpContext context, IResponseObserver observer, RequestDelegate next)
    {
        var installed = Observe(context, observer);
        var completed = false;
        try
        {
            await next(context);
            completed = true;
        }
        finally
        {
            if (installed)
            {
                await CompleteAsync(context, deliver: completed);
            }
        }
    }

    /// <summary>Whether the response body was held back and handed to the observers as a whole.</summary>
    public static bool IsBuffered(HttpContext context) =>
        context.Features.Get<IHttpResponseBodyFeature>() is ObservedResponseBody { IsBuffered: true };
}
