using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LlmGateway.Errors;
using LlmGateway.Parsing;
using LlmGateway.Routing;
using LlmGateway.Routing.LoadBalancing;
using LlmGateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace LlmGateway.Resilience;

/// <summary>
/// The attempts of one request. Each attempt points the request at a deployment, runs YARP's forwarder through the
/// deployment's circuit breaker, and classifies how it ended. A 429/5xx answer is held back (not sent to the client)
/// while another attempt may follow; connection failures and timeouts leave nothing sent. Once a byte has reached
/// the client nothing is retried: a stream that fails later is ended with an OpenAI-style error event.
/// </summary>
/// <remarks>
/// While attempts run, this object stands in for the request's <see cref="IHttpRequestLifetimeFeature"/>: the
/// forwarder sees the attempt's cancellation token (client disconnect or total deadline), and its abort of a
/// broken response is intercepted so that a stream can be ended with an error event instead of a reset connection.
/// </remarks>
internal sealed partial class AttemptContext : IHttpRequestLifetimeFeature
{
    public const string DeploymentHeader = "x-gateway-deployment";
    public const string AttemptsHeader = "x-gateway-attempts";

    private const int MaxHeldBodyBytes = 16 * 1024;
    private static readonly string[] AttemptCounts = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

    private readonly HttpContext _context;
    private readonly ModelRouteFeature _route;
    private readonly LlmRequestFeature _request;
    private readonly RequestDelegate _next;
    private readonly DeploymentSelector _selector;
    private readonly IHttpForwarder _forwarder;
    private readonly TimeProvider _timeProvider;
    private readonly ResilienceMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IHttpRequestLifetimeFeature _client;
    private readonly string _publicModel;
    private readonly int _maxAttempts;
    private RoutedModel _model;
    private List<Deployment>? _tried;
    private CancellationToken _attemptAborted;
    private HeldResponse? _held;
    private bool _heldThisAttempt;
    private bool _abortRequested;
    private bool _chooseNext;
    private int _attempts;
    private int _upstreamStatus;
    private long _headersAt;
    private bool _hedging;
    private int _winner;

    private const int NoWinner = 0;
    private const int PrimaryWon = 1;
    private const int HedgeWon = 2;

    public AttemptContext(
        HttpContext context, ModelRouteFeature route, RequestDelegate next, DeploymentSelector selector, IHttpForwarder forwarder, TimeProvider timeProvider,
        ResilienceMetrics metrics, ILogger logger)
    {
        _metrics = metrics;
        _forwarder = forwarder;
        _context = context;
        _route = route;
        _request = context.Features.GetRequiredFeature<LlmRequestFeature>();
        _next = next;
        _selector = selector;
        _timeProvider = timeProvider;
        _logger = logger;
        _client = context.Features.GetRequiredFeature<IHttpRequestLifetimeFeature>();
        _attemptAborted = _client.RequestAborted;
        _model = route.Model;
        _publicModel = route.Route.PublicModel;
        _maxAttempts = _model.Options.Retry.MaxAttempts;
    }

    CancellationToken IHttpRequestLifetimeFeature.RequestAborted
    {
        get => _attemptAborted;
        set => _client.RequestAborted = value;
    }

    void IHttpRequestLifetimeFeature.Abort()
    {
        if (_client.RequestAborted.IsCancellationRequested)
        {
            _client.Abort();
            return;
        }

        // The forwarder aborts a response that broke after it started; whether to reset the connection or to end a
        // stream with an error event is decided once the attempt is over.
        _abortRequested = true;
    }

    /// <summary>Runs the attempts through the model's pipeline, then answers for the one that ended the request.</summary>
    public async Task RunAsync()
    {
        var features = _context.Features;
        var reset = features.Get<IHttpResetFeature>();
        features.Set<IHttpRequestLifetimeFeature>(this);
        features.Set<IHttpResetFeature>(null);
        features.Set(this);

        // One Polly context for the whole request: each attempt's circuit breaker runs on it too (see RunAttemptAsync).
        var resilienceContext = ResilienceContextPool.Shared.Get(_client.RequestAborted);
        Outcome<AttemptOutcome> last;
        try
        {
            last = await _model.Attempts.ExecuteOutcomeAsync(
                static (context, attempts) => attempts.RunAttemptAsync(context), resilienceContext, this);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilienceContext);
            features.Set(_client);
            features.Set(reset);
            features.Set<AttemptContext>(null);
        }

        await CompleteAsync(EndOf(last));
    }

    /// <summary>Polly's last outcome as the request's: the total deadline or the client's departure; anything else thrown is rethrown as it was.</summary>
    private AttemptOutcome EndOf(Outcome<AttemptOutcome> last)
    {
        switch (last.Exception)
        {
            case null:
                return last.Result;
            case TimeoutRejectedException:
                return new AttemptOutcome(AttemptResult.DeadlineExceeded);
            case OperationCanceledException when _client.RequestAborted.IsCancellationRequested:
                return new AttemptOutcome(AttemptResult.ClientGone);
            default:
                last.ThrowIfException();
                throw new UnreachableException();
        }
    }

    /// <summary>Finishes the response after the last attempt: passes on a held answer, or ends a broken one properly.</summary>
    private Task CompleteAsync(AttemptOutcome outcome)
    {
        var response = _context.Response;
        switch (outcome.Result)
        {
            case AttemptResult.Passed or AttemptResult.PassedFailure:
                return Task.CompletedTask;
            case AttemptResult.ClientGone:
                if (_abortRequested)
                {
                    _client.Abort();
                }

                return Task.CompletedTask;
            case AttemptResult.FailedMidResponse:
                return EndBrokenResponseAsync(GatewayError.UpstreamFailed(_route.Route.Provider.Name));
            case AttemptResult.DeadlineExceeded:
                var timeout = GatewayError.UpstreamTimeout(_route.Route.Provider.Name);
                return response.HasStarted ? EndBrokenResponseAsync(timeout) : timeout.WriteAsync(response);
        }

        if (_heldThisAttempt || (outcome.Result == AttemptResult.NoDeployment && _held is not null))
        {
            return WriteHeldAsync(_held!);
        }

        if (outcome.Result == AttemptResult.NoDeployment && _context.Features.Get<IForwarderErrorFeature>() is null)
        {
            return GatewayError.DeploymentsUnavailable(_publicModel).WriteAsync(response);
        }

        // A connection failure or timeout: the forwarder's error stays for the error stage to describe.
        return Task.CompletedTask;
    }

    /// <summary>Called by the response transform when an attempt's response headers arrive.</summary>
    public ValueTask OnResponseAsync(ResponseTransformContext transform, HttpResponseMessage response)
    {
        _headersAt = _timeProvider.GetTimestamp();
        var status = (int)response.StatusCode;
        _upstreamStatus = status;
        var hold = _attempts >= _maxAttempts ? AttemptResult.Passed
            : status is StatusCodes.Status429TooManyRequests or >= 500 ? AttemptResult.RetryableStatus
            : status == StatusCodes.Status400BadRequest && _model.ContextWindowFallback is not null ? AttemptResult.HeldClientError
            : AttemptResult.Passed;

        // While a hedge runs, the answer that goes to the client must win the race first; a loser sends nothing.
        if (_hedging && (Volatile.Read(ref _winner) == HedgeWon
            || (hold == AttemptResult.Passed && Interlocked.CompareExchange(ref _winner, PrimaryWon, NoWinner) == HedgeWon)))
        {
            transform.SuppressResponseBody = true;
            UndoCopiedHeaders(response);
            return ValueTask.CompletedTask;
        }

        return hold == AttemptResult.Passed ? ValueTask.CompletedTask : HoldAsync(transform, response, hold);
    }

    /// <summary>Polly's retry predicate: whether this outcome gets another attempt.</summary>
    internal bool ShouldRetry(AttemptOutcome outcome)
    {
        if (!outcome.IsRetryable || _context.Response.HasStarted || _client.RequestAborted.IsCancellationRequested)
        {
            return false;
        }

        // An upstream that asks for a longer pause than we are willing to wait gets its answer passed on,
        // unless another deployment can take the request at once.
        return outcome.RetryAfter is not { } wait
            || wait <= _model.Options.Retry.MaxRetryAfter
            || (_tried is not null && _selector.HasUntried(_model, _tried));
    }

    /// <summary>Polly's delay before the next attempt: none when moving on to a fresh deployment, else Retry-After or backoff.</summary>
    internal TimeSpan? RetryDelay(AttemptOutcome outcome)
    {
        if (outcome.Result == AttemptResult.ContextWindowExceeded || (_tried is not null && _selector.HasUntried(_model, _tried)))
        {
            return TimeSpan.Zero;
        }

        return outcome.RetryAfter;
    }

    internal void OnRetry(TimeSpan delay) => LogRetrying(_logger, _publicModel, _attempts + 1, delay.TotalMilliseconds);

    /// <summary>
    /// Polly's callback for one attempt: chooses a deployment unless this is the first, and forwards through its circuit
    /// breaker, skipping deployments whose breaker opened since they were chosen. Never throws: Polly gets the exception.
    /// </summary>
    private async ValueTask<Outcome<AttemptOutcome>> RunAttemptAsync(ResilienceContext resilienceContext)
    {
        _attemptAborted = resilienceContext.CancellationToken;
        try
        {
            while (true)
            {
                if (_chooseNext)
                {
                    if (_selector.Select(_context, _model, _tried) is not { } choice)
                    {
                        return Ended(new AttemptOutcome(AttemptResult.NoDeployment));
                    }

                    var publicModel = ReferenceEquals(choice.Deployment.Model, _route.Model) ? _publicModel : choice.Deployment.Model.Name;
                    DeploymentRouting.Apply(_context, _route, choice, _request, publicModel);
                }

                _chooseNext = true;
                var deployment = _route.Route.Deployment;
                if (deployment.Breaker is not { } breaker)
                {
                    return await ForwardAsync(deployment);
                }

                // The breaker runs on the attempts' own context: nested inside the total deadline, it sees the deadline's
                // cancellation, and it leaves the context as it found it.
                var outcome = await breaker.Pipeline.ExecuteOutcomeAsync(
                    static (_, state) => state.Attempts.ForwardAsync(state.Deployment), resilienceContext, (Attempts: this, Deployment: deployment));
                if (outcome.Exception is not BrokenCircuitException)
                {
                    return outcome;
                }

                // Opened (or probing) since it was chosen: skip it without sending anything.
                LogBreakerOpen(_logger, deployment.Model.Name, deployment.Name);
                _metrics.RecordAttempt(deployment, ResilienceMetrics.BreakerOpen);
                (_tried ??= []).Add(deployment);
            }
        }
        catch (Exception exception)
        {
            return Outcome.FromException<AttemptOutcome>(exception);
        }
    }

    /// <summary>How an attempt ended, for Polly, with these attempts attached for the retry callbacks.</summary>
    private Outcome<AttemptOutcome> Ended(AttemptOutcome outcome) => Outcome.FromResult(outcome with { Attempts = this });

    /// <summary>One attempt through <paramref name="deployment"/>. Never throws: Polly gets the exception.</summary>
    private async ValueTask<Outcome<AttemptOutcome>> ForwardAsync(Deployment deployment)
    {
        try
        {
            _attempts++;
            _heldThisAttempt = false;
            _abortRequested = false;
            _upstreamStatus = 0;
            _headersAt = 0;
            var response = _context.Response;
            if (_attempts > 1)
            {
                // Whatever the previous attempt left (a 502/504 status and its error) is not this attempt's.
                response.StatusCode = StatusCodes.Status200OK;
                _context.Features.Set<IForwarderErrorFeature>(null);
            }

            response.Headers[DeploymentHeader] = deployment.Name;
            response.Headers[AttemptsHeader] = _attempts < AttemptCounts.Length ? AttemptCounts[_attempts] : _attempts.ToString(CultureInfo.InvariantCulture);

            using var activity = StartActivity(_route.Route, _attempts);
            var started = _timeProvider.GetTimestamp();
            if (_attempts == 1 && _model.Options.Hedging.Delay is { } hedgingDelay && !_request.Stream)
            {
                if (await ForwardHedgedAsync(deployment, hedgingDelay) is { } hedgeOutcome)
                {
                    _metrics.RecordAttempt(deployment, ResilienceMetrics.Cancelled);
                    return Ended(hedgeOutcome);
                }
            }
            else
            {
                await _next(_context);
            }

            var outcome = Classify();
            _metrics.RecordAttempt(deployment, outcome.Result);
            if (_headersAt != 0)
            {
                deployment.Latency.Add(_timeProvider.GetElapsedTime(started, _headersAt));
            }

            if (outcome.Result != AttemptResult.Passed)
            {
                (_tried ??= []).Add(deployment);
                LogAttemptFailed(_logger, _attempts, deployment.Model.Name, deployment.Name, outcome.Result, _upstreamStatus);
                if (outcome.Result == AttemptResult.ContextWindowExceeded && _model.ContextWindowFallback is { } larger)
                {
                    // From here on the request goes to the larger model; deployments tried so far are irrelevant.
                    _model = larger;
                    _tried = null;
                }
            }

            if (activity is not null)
            {
                FinishActivity(activity, outcome);
            }

            return Ended(outcome);
        }
        catch (Exception exception)
        {
            return Outcome.FromException<AttemptOutcome>(exception);
        }
    }

    /// <summary>
    /// Runs the first attempt, and when it has no answer after <paramref name="delay"/> a second one in parallel on
    /// another deployment. The hedge runs on a shadow context with a buffered response (hedging is for non-streaming
    /// requests), so whichever answers first wins: the primary by passing its headers on, the hedge by completing.
    /// Returns the outcome when the hedge won, or null to classify the primary as usual.
    /// </summary>
    private async ValueTask<AttemptOutcome?> ForwardHedgedAsync(Deployment primaryDeployment, TimeSpan delay)
    {
        var attemptToken = _attemptAborted;
        using var primaryCancellation = CancellationTokenSource.CreateLinkedTokenSource(attemptToken);
        using var hedgeCancellation = CancellationTokenSource.CreateLinkedTokenSource(attemptToken);
        _attemptAborted = primaryCancellation.Token;
        _winner = NoWinner;
        _hedging = true;
        try
        {
            var primary = _next(_context);
            var waited = await Task.WhenAny(primary, Task.Delay(delay, _timeProvider, hedgeCancellation.Token));
            if (waited == primary || Volatile.Read(ref _winner) == PrimaryWon
                || _selector.Select(_context, _model, [primaryDeployment]) is not { } choice)
            {
                await hedgeCancellation.CancelAsync();
                await primary;
                return null;
            }

            var publicModel = ReferenceEquals(choice.Deployment.Model, _route.Model) ? _publicModel : choice.Deployment.Model.Name;
            var hedgeRoute = _route.Route.Through(choice.Deployment, publicModel);
            LogHedging(_logger, _publicModel, primaryDeployment.Name, choice.Deployment.Name, delay.TotalMilliseconds);
            var hedge = SendHedgeAsync(choice, hedgeRoute, hedgeCancellation.Token);
            var first = await Task.WhenAny(primary, hedge);
            if (first == primary && (Volatile.Read(ref _winner) == PrimaryWon || !Classify().IsRetryable))
            {
                await hedgeCancellation.CancelAsync();
                await hedge;
                return null;
            }

            // The hedge finished first, or the primary failed in a way a hedge can cure: the hedge's answer, if good, wins.
            if (await hedge is { } shadow && Interlocked.CompareExchange(ref _winner, HedgeWon, NoWinner) == NoWinner)
            {
                await primaryCancellation.CancelAsync();
                await primary;
                await SendHedgeAnswerAsync(shadow, hedgeRoute);
                return new AttemptOutcome(AttemptResult.Passed);
            }

            await primary;
            return null;
        }
        finally
        {
            _attemptAborted = attemptToken;
            _hedging = false;
        }
    }

    /// <summary>The hedged attempt: the same parsed request, forwarded into a shadow context; the context when its answer is good.</summary>
    private async Task<HttpContext?> SendHedgeAsync(DeploymentChoice choice, ModelRoute route, CancellationToken cancellationToken)
    {
        var shadow = new DefaultHttpContext();
        var original = _context.Request;
        var request = shadow.Request;
        request.Method = original.Method;
        request.Scheme = original.Scheme;
        request.Host = original.Host;
        request.PathBase = original.PathBase;
        request.Path = original.Path;
        request.QueryString = original.QueryString;
        request.Protocol = original.Protocol;
        foreach (var (name, value) in original.Headers)
        {
            request.Headers[name] = value;
        }

        shadow.Features.Set(new ModelRouteFeature(route));
        var body = _context.Features.GetRequiredFeature<UpstreamBodyFeature>().Clone();
        body.Model = route.UpstreamModel;
        shadow.Features.Set(body);
        UpstreamBody.Apply(shadow);
        shadow.Response.Body = new MemoryStream();
        shadow.RequestAborted = cancellationToken;

        // The hedge is the primary attempt's sibling, not its child (this async flow's change does not leak out).
        Activity.Current = Activity.Current?.Parent;
        using var activity = StartActivity(route, _attempts + 1);
        try
        {
            var cluster = choice.Cluster.Model;
            var error = await _forwarder.SendAsync(shadow, choice.Destination.Model.Config.Address, cluster.HttpClient,
                cluster.Config.HttpRequest ?? ForwarderRequestConfig.Empty, _context.GetReverseProxyFeature().Route.Transformer, cancellationToken);
            var status = shadow.Response.StatusCode;
            var good = error == ForwarderError.None && status is < 500 and not StatusCodes.Status429TooManyRequests;
            _metrics.RecordAttempt(choice.Deployment, good ? AttemptResult.Passed
                : error != ForwarderError.None ? AttemptResult.ConnectionFailed : AttemptResult.RetryableStatus);
            activity?.SetTag("http.response.status_code", status);
            if (!good)
            {
                activity?.SetStatus(ActivityStatusCode.Error);
            }

            return good ? shadow : null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _metrics.RecordAttempt(choice.Deployment, ResilienceMetrics.Cancelled);
            return null;
        }
    }

    private async Task SendHedgeAnswerAsync(HttpContext shadow, ModelRoute route)
    {
        var response = _context.Response;
        _context.Features.Set<IForwarderErrorFeature>(null);
        _heldThisAttempt = false;
        _attempts++;
        _upstreamStatus = shadow.Response.StatusCode;
        _route.Route = route;
        response.StatusCode = shadow.Response.StatusCode;
        foreach (var (name, value) in shadow.Response.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers[DeploymentHeader] = route.Deployment.Name;
        response.Headers[AttemptsHeader] = _attempts < AttemptCounts.Length ? AttemptCounts[_attempts] : _attempts.ToString(CultureInfo.InvariantCulture);
        var body = (MemoryStream)shadow.Response.Body;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), _client.RequestAborted);
    }

    private AttemptOutcome Classify()
    {
        if (_heldThisAttempt)
        {
            return _held!.Outcome;
        }

        var error = _context.Features.Get<IForwarderErrorFeature>();
        if (error is null)
        {
            return new AttemptOutcome(_upstreamStatus is StatusCodes.Status429TooManyRequests or >= 500 ? AttemptResult.PassedFailure : AttemptResult.Passed);
        }

        if (_client.RequestAborted.IsCancellationRequested)
        {
            return new AttemptOutcome(AttemptResult.ClientGone);
        }

        if (_context.Response.HasStarted)
        {
            return new AttemptOutcome(AttemptResult.FailedMidResponse);
        }

        return new AttemptOutcome(error.Error switch
        {
            ForwarderError.RequestTimedOut => AttemptResult.TimedOut,
            ForwarderError.NoAvailableDestinations => AttemptResult.NoDeployment,
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                when _attemptAborted.IsCancellationRequested => AttemptResult.DeadlineExceeded,
            _ => AttemptResult.ConnectionFailed,
        });
    }

    private async ValueTask HoldAsync(ResponseTransformContext transform, HttpResponseMessage upstream, AttemptResult result)
    {
        transform.SuppressResponseBody = true;
        var body = await ReadBoundedAsync(upstream.Content, transform.CancellationToken);
        if (result == AttemptResult.HeldClientError && body is not null && IsContextLengthExceeded(body))
        {
            result = AttemptResult.ContextWindowExceeded;
        }

        upstream.Headers.TryGetValues("Retry-After", out var retryAfterValues);
        var retryAfterHeader = retryAfterValues?.FirstOrDefault();
        _held = new HeldResponse(
            (int)upstream.StatusCode,
            upstream.Content.Headers.ContentType?.ToString(),
            retryAfterHeader,
            body,
            new AttemptOutcome(result, RetryAfterOf(upstream)));
        _heldThisAttempt = true;

        UndoCopiedHeaders(upstream);
    }

    /// <summary>Undoes what the forwarder copied from an answer that is not sent, and nothing an earlier stage set.</summary>
    private void UndoCopiedHeaders(HttpResponseMessage upstream)
    {
        var headers = _context.Response.Headers;
        foreach (var header in upstream.Headers)
        {
            headers.Remove(header.Key);
        }

        foreach (var header in upstream.Content.Headers)
        {
            headers.Remove(header.Key);
        }

        _context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage upstream)
    {
        // Some providers send milliseconds; they are the more precise answer.
        if (upstream.Headers.TryGetValues("retry-after-ms", out var milliseconds)
            && double.TryParse(milliseconds.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (upstream.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        if (retryAfter.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter.Date is { } date)
        {
            var wait = date - _timeProvider.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static async ValueTask<byte[]?> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxHeldBodyBytes + 1);
        try
        {
            using var stream = await content.ReadAsStreamAsync(cancellationToken);
            var length = 0;
            int read;
            while (length <= MaxHeldBodyBytes && (read = await stream.ReadAsync(buffer.AsMemory(length, MaxHeldBodyBytes + 1 - length), cancellationToken)) > 0)
            {
                length += read;
            }

            return length > MaxHeldBodyBytes ? null : buffer.AsSpan(0, length).ToArray();
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsContextLengthExceeded(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error"u8, out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("code"u8, out var code)
                && code.ValueKind == JsonValueKind.String
                && code.ValueEquals("context_length_exceeded"u8);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private Task WriteHeldAsync(HeldResponse held)
    {
        var response = _context.Response;
        if (held.Body is null)
        {
            return GatewayError.ForStatus(held.StatusCode, _context.Request.Method, _context.Request.Path).WriteAsync(response);
        }

        response.StatusCode = held.StatusCode;
        response.ContentType = held.ContentType;
        if (held.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter;
        }

        response.ContentLength = held.Body.Length;
        return response.Body.WriteAsync(held.Body).AsTask();
    }

    /// <summary>
    /// Ends a response that broke after bytes reached the client: a server-sent-event stream gets an OpenAI-style
    /// error event and ends normally (so whatever observes the response sees its end); anything else is reset,
    /// because a truncated JSON body must not look complete.
    /// </summary>
    private async Task EndBrokenResponseAsync(GatewayError error)
    {
        var response = _context.Response;
        if (_client.RequestAborted.IsCancellationRequested
            || response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) != true)
        {
            _client.Abort();
            return;
        }

        LogStreamEndedWithError(_logger, _route.Route.Deployment.Name, error.Code);
        var buffer = new ArrayBufferWriter<byte>(256);
        // A blank line first ends any event the upstream left half-written.
        buffer.Write("\ndata: "u8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            error.WriteTo(writer);
        }

        buffer.Write("\n\n"u8);
        try
        {
            await response.Body.WriteAsync(buffer.WrittenMemory, _client.RequestAborted);
            await response.Body.FlushAsync(_client.RequestAborted);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            // The client left while we were telling it; nothing more to do.
        }
    }

    private Activity? StartActivity(ModelRoute route, int attempt)
    {
        if (!GatewayTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        var deployment = route.Deployment;
        var operation = OperationName(_request.Operation);
        var activity = GatewayTelemetry.ActivitySource.StartActivity($"{operation} {route.UpstreamModel}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", operation);
            activity.SetTag("gen_ai.provider.name", route.Provider.Name);
            activity.SetTag("gen_ai.request.model", route.UpstreamModel);
            if (_request.MaxOutputTokens is { } maxTokens)
            {
                activity.SetTag("gen_ai.request.max_tokens", maxTokens);
            }

            if (_request.Temperature is { } temperature)
            {
                activity.SetTag("gen_ai.request.temperature", temperature);
            }

            activity.SetTag("server.address", route.Provider.BaseAddress?.Host);
            activity.SetTag("llm_gateway.model", deployment.Model.Name);
            activity.SetTag("llm_gateway.deployment", deployment.Name);
            activity.SetTag("llm_gateway.provider", route.Provider.Name);
            activity.SetTag("llm_gateway.attempt", attempt);
        }

        return activity;
    }

    private void FinishActivity(Activity activity, AttemptOutcome outcome)
    {
        if (_upstreamStatus != 0)
        {
            activity.SetTag("http.response.status_code", _upstreamStatus);
        }

        if (outcome.Result != AttemptResult.Passed)
        {
            activity.SetTag("error.type", outcome.Result.ToString());
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    private static string OperationName(LlmOperation operation) => operation switch
    {
        LlmOperation.ChatCompletions => "chat",
        LlmOperation.Completions => "text_completion",
        LlmOperation.Embeddings => "embeddings",
        _ => "generate_content",
    };

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information,
        Message = "Model {Model}: deployment {Deployment} has not answered in {DelayMs} ms; hedging on {HedgeDeployment}")]
    private static partial void LogHedging(ILogger logger, string model, string deployment, string hedgeDeployment, double delayMs);

    private sealed record HeldResponse(int StatusCode, string? ContentType, string? RetryAfter, byte[]? Body, AttemptOutcome Outcome);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning,
        Message = "Attempt {Attempt} for model {Model} through deployment {Deployment} failed: {Result} (upstream status {Status})")]
    private static partial void LogAttemptFailed(ILogger logger, int attempt, string model, string deployment, AttemptResult result, int status);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Model {Model}: attempt {Attempt} follows in {DelayMs} ms")]
    private static partial void LogRetrying(ILogger logger, string model, int attempt, double delayMs);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Model {Model}: deployment {Deployment} is out of rotation (circuit open); trying another")]
    private static partial void LogBreakerOpen(ILogger logger, string model, string deployment);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "The stream from deployment {Deployment} failed after the client got bytes; ended it with an error event ({Code})")]
    private static partial void LogStreamEndedWithError(ILogger logger, string deployment, string? code);
}
