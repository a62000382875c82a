import type { BuildInput, EndpointAdapter } from '@waygate/core';
import { isObj } from './format.js';
import { toChatRequest } from './request.js';
import { ResponsesStreamWriter, toResponse } from './response.js';

/**
 * The `responses` endpoint on a provider that only serves `chat.completions`: translates the
 * Responses request to a chat request, lets the provider's own chat adapter (`inner`) build the call
 * and map its answer to the canonical format, and translates that answer (JSON or stream) back.
 */
export function bridgeToChat(inner: EndpointAdapter): EndpointAdapter {
  // The translated input, made once per attempt (prepare, build, mapResponse and the stream writer share it).
  const translated = new WeakMap<BuildInput, BuildInput>();
  const innerInput = (input: BuildInput): BuildInput => {
    let x = translated.get(input);
    if (!x) {
      x = { ctx: input.ctx, target: input.target, body: toChatRequest(input.body ?? {}) };
      translated.set(input, x);
    }
    return x;
  };
  const adapter: EndpointAdapter = {
    build: (input) => inner.build(innerInput(input)),
    mapResponse(json, input) {
      const chat = inner.mapResponse ? inner.mapResponse(json, innerInput(input)) : json;
      return isObj(chat) && Array.isArray(chat.choices) ? toResponse(chat, input.body ?? {}) : chat;
    },
    createStreamTransformer: (input) => new ResponsesStreamWriter(input.body ?? {}, inner.createStreamTransformer?.(innerInput(input))),
  };
  if (inner.prepare) adapter.prepare = (input) => inner.prepare!(innerInput(input));
  if (inner.decodeStream) adapter.decodeStream = (body) => inner.decodeStream!(body);
  if (inner.mapError) adapter.mapError = (status, body, headers) => inner.mapError!(status, body, headers);
  return adapter;
}
