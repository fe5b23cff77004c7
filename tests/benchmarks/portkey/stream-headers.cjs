// Preloaded into the Portkey gateway (node --require) so that its streamed answers work under Node. Portkey 1.15.2
// wraps an upstream event stream as `new Response(stream, upstreamResponse)` and then appends its own headers to it.
// The lightweight Response class of its Node server adapter (@hono/node-server) keeps `init.headers` as it is, and
// the headers of a fetch() result are immutable, so every streamed request failed with HTTP 500 ("TypeError:
// immutable"). Here an upstream event stream comes back from fetch() with a mutable copy of its headers. Other
// answers are returned untouched, so the non-streaming rows measure Portkey exactly as installed.
const UpstreamResponse = globalThis.Response;
const upstreamFetch = globalThis.fetch;

globalThis.fetch = async function fetchWithMutableStreamHeaders(...args) {
  const response = await upstreamFetch(...args);
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    return response;
  }
  return new UpstreamResponse(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new Headers(response.headers),
  });
};
