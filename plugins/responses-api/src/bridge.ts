import type { EndpointAdapter } from '@waygate/core';
import { bridgeThroughChat } from '@waygate/provider-kit';
import { toChatRequest } from './request.js';
import { ResponsesStreamWriter, toResponse } from './response.js';

/**
 * The `responses` endpoint on a provider that only serves `chat.completions`: the Responses request
 * translated to a chat request, the provider's own chat adapter (`inner`) building the call and
 * mapping its answer to the canonical format, and that answer (JSON or stream) translated back (the
 * mechanism is provider-kit's `bridgeThroughChat`).
 */
export function bridgeToChat(inner: EndpointAdapter): EndpointAdapter {
  return bridgeThroughChat(inner, {
    request: (body) => toChatRequest(body),
    response: (chat, body) => toResponse(chat, body),
    stream: (body, innerStream) => new ResponsesStreamWriter(body, innerStream),
  });
}
