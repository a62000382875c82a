import type { BuildInput, EndpointAdapter, StreamTransformer } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

/** How a client-facing API is translated to and from OpenAI's chat completions. */
export interface ChatTranslation {
  /** The API's request body → a chat completions request. */
  request(body: Json): Json;
  /** A chat completion (the inner adapter's canonical answer) → the API's answer to `body`. */
  response(chat: Json, body: Json): unknown;
  /** The writer of the API's stream to `body`, fed the inner adapter's canonical chunks (through `inner` when it has a transformer). */
  stream(body: Json, inner: StreamTransformer | undefined): StreamTransformer;
}

/**
 * An endpoint served through a provider's `chat.completions` adapter (`inner`): the request
 * translated once per attempt (prepare, build, mapResponse and the stream writer all get the same
 * translated input, so what the provider's prepare() leaves in it is seen by build()), the provider's
 * own adapter building the call and mapping its answer to the canonical format, and that answer (a
 * chat completion or its chunks) translated back. Anything that is not a chat completion is relayed.
 * Upstream errors are mapped by the provider's adapter.
 */
export function bridgeThroughChat(inner: EndpointAdapter, t: ChatTranslation): EndpointAdapter {
  const translated = new WeakMap<BuildInput, BuildInput>();
  const innerInput = (input: BuildInput): BuildInput => {
    let x = translated.get(input);
    if (!x) {
      x = { ctx: input.ctx, target: input.target, body: t.request(input.body ?? {}) };
      translated.set(input, x);
    }
    return x;
  };
  const adapter: EndpointAdapter = {
    build: (input) => inner.build(innerInput(input)),
    mapResponse(json, input, headers) {
      const chat = inner.mapResponse ? inner.mapResponse(json, innerInput(input), headers) : json;
      return isObj(chat) && Array.isArray(chat.choices) ? t.response(chat, input.body ?? {}) : chat;
    },
    createStreamTransformer: (input) => t.stream(input.body ?? {}, inner.createStreamTransformer?.(innerInput(input))),
  };
  if (inner.prepare) adapter.prepare = (input) => inner.prepare!(innerInput(input));
  if (inner.decodeStream) adapter.decodeStream = (body, input) => inner.decodeStream!(body, innerInput(input));
  if (inner.mapError) adapter.mapError = (status, body, headers) => inner.mapError!(status, body, headers);
  return adapter;
}
