import type { BuildInput, EndpointAdapter } from '@waygate/core';
import { isObj } from './format.js';
import { toChatRequest } from './request.js';
import type { RequestOptions } from './request.js';
import { MessagesStreamWriter, toMessage } from './response.js';

/**
 * The `messages` endpoint on a provider that only serves `chat.completions`: an adapter that
 * translates the Anthropic request to an OpenAI chat request, lets the provider's own chat adapter
 * (`inner`) build the upstream call and map its answer to the canonical format, and translates that
 * answer (JSON or stream) back to Anthropic's. Errors are mapped by the provider's adapter.
 */
export function bridgeToChat(inner: EndpointAdapter, opts: RequestOptions = {}): EndpointAdapter {
  // The translated input, made once per attempt (prepare, build, mapResponse and the stream
  // transformer all get the same input object; the provider's prepare() may leave things in it).
  const translated = new WeakMap<BuildInput, BuildInput>();
  const innerInput = (input: BuildInput): BuildInput => {
    let x = translated.get(input);
    if (!x) {
      x = { ctx: input.ctx, target: input.target, body: toChatRequest(input.body ?? {}, opts) };
      translated.set(input, x);
    }
    return x;
  };
  const adapter: EndpointAdapter = {
    build: (input) => inner.build(innerInput(input)),
    mapResponse(json, input) {
      const chat = inner.mapResponse ? inner.mapResponse(json, innerInput(input)) : json;
      return isObj(chat) && Array.isArray(chat.choices) ? toMessage(chat, input.body ?? {}) : chat;
    },
    createStreamTransformer: (input) => new MessagesStreamWriter(input.body ?? {}, inner.createStreamTransformer?.(innerInput(input))),
  };
  if (inner.prepare) adapter.prepare = (input) => inner.prepare!(innerInput(input));
  if (inner.decodeStream) adapter.decodeStream = (body) => inner.decodeStream!(body);
  if (inner.mapError) adapter.mapError = (status, body, headers) => inner.mapError!(status, body, headers);
  return adapter;
}
