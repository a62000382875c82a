// Preload for the Portkey contender only (`node --import .../portkey-compat.js start-server.js`).
//
// @portkey-ai/gateway 1.15.2 on Node resolves its dependency @hono/node-server to a 1.19.x release,
// whose lightweight Response reuses the *immutable* headers of the upstream fetch() Response when
// Portkey re-wraps an SSE body (`new Response(stream, upstreamResponse)`); Portkey then appends its
// x-portkey-* headers and every `stream: true` chat completion fails with HTTP 500 "TypeError:
// immutable" (Portkey-AI/gateway#1389, #1550). This shim gives event-stream fetch() responses a
// mutable copy of their headers, which is what Portkey expects; JSON responses are untouched.
const nativeFetch = globalThis.fetch;
const NativeResponse = globalThis.Response;

globalThis.fetch = async function compatFetch(input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
  const response = await nativeFetch(input, init);
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
  return new NativeResponse(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new Headers(response.headers),
  });
};
