import type { EndpointAdapter } from '@waygate/core';
import { bridgeThroughChat } from '@waygate/provider-kit';
import { toChatRequest } from './request.js';
import type { RequestOptions } from './request.js';
import { MessagesStreamWriter, toMessage } from './response.js';

/**
 * The `messages` endpoint on a provider that only serves `chat.completions`: the Anthropic request
 * translated to an OpenAI chat request, the provider's own chat adapter (`inner`) building the call
 * and mapping its answer to the canonical format, and that answer (JSON or stream) translated back
 * to Anthropic's (the mechanism is provider-kit's `bridgeThroughChat`).
 */
export function bridgeToChat(inner: EndpointAdapter, opts: RequestOptions = {}): EndpointAdapter {
  return bridgeThroughChat(inner, {
    request: (body) => toChatRequest(body, opts),
    response: (chat, body) => toMessage(chat, body),
    stream: (body, innerStream) => new MessagesStreamWriter(body, innerStream),
  });
}
