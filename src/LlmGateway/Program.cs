using LlmGateway.Admin;
using LlmGateway.Authentication;
using LlmGateway.Caching;
using LlmGateway.Endpoints;
using LlmGateway.Errors;
using LlmGateway.Guardrails;
using LlmGateway.Hosting;
using LlmGateway.Metering;
using LlmGateway.Parsing;
using LlmGateway.Providers;
using LlmGateway.Resilience;
using LlmGateway.Routing;
using LlmGateway.Telemetry;

var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayLogging();
builder.UseGatewayTransport();       // request code on the socket's own thread when the runtime inlines completions
builder.Services.AddGateway(builder.Configuration);
builder.Services.AddGatewayTelemetry(builder.Configuration);

var app = builder.Build();

app.UseTraceContextResponseHeader(); // traceparent back to the client
app.UseOpenAiErrorResponses();   // every failure in OpenAI's error shape
app.UseVirtualKeys();            // who is calling (endpoints marked RequireVirtualKey)
app.MapGatewayEndpoints();       // /v1/models, /healthz, /readyz
app.MapPrometheusMetrics();      // /metrics
app.MapAdminEndpoints();         // /admin/spend (admin key)
app.MapReverseProxy(proxy =>
{
    proxy.UseRequestParsing();   // read the body once into LlmRequestFeature
    proxy.UseGuardrails();       // input guards before routing; output guards on answers
    proxy.UseModelRouting();     // model -> deployment (strategy, breakers), upstream model name
    proxy.UseCacheLookahead();   // with a shared cache store: the exact lookup starts now, beside admission's round trips
    proxy.UseBudgetLookahead();  // with a shared budget store: the reservation is sent now, beside the rate limit's
    proxy.UseRateLimits();       // requests and tokens per minute per key and team
    proxy.UseBudgets();          // reserve the worst case on USD budgets, settle the metered cost
    proxy.UseMetering();         // usage from every response, priced, one record per request
    proxy.UseCaching();          // exact, then semantic cache hits answered here; misses captured as they stream
    proxy.UseResilience();       // attempts around the forwarder: retries, failover, fallback models
    proxy.UseProviderTranslation(); // per attempt: OpenAI <-> Anthropic, Azure deployments (outer stages see the client's shape)
}).RequireVirtualKey();

app.Run();
