import { ErrorCode, GatewayError } from '@waygate/core';
import type { BuildInput, EndpointAdapter, ProviderAdapter, StreamTransformer } from '@waygate/core';
import type { TokenCache } from './auth.js';
import { mapVertexError } from './errors.js';
import { VERTEX_ANTHROPIC_VERSION, anthropicBeta, authHeaders, optionsOf, parseModel, vertexURL } from './request.js';

/**
 * Anthropic's Messages API (`/v1/messages`) on Vertex AI, for one provider: Claude models passed
 * through, Gemini models through the gateway's Messages bridge around the provider's own chat adapter
 * (looked up in `endpoints`, the provider's endpoint map, when a request comes).
 */
export function createMessagesEndpoint(
  tokenCache: TokenCache,
  prepare: (input: BuildInput) => Promise<void> | void,
  endpoints: ProviderAdapter['endpoints'],
): EndpointAdapter {
  /** Anthropic's Messages API as it is, for Claude models: the body passes through with `model` moved into the URL. */
  const claudeMessages: EndpointAdapter = {
    prepare,
    build: (input) => {
      const body = input.body ?? {};
      const m = parseModel(body.model);
      const o = optionsOf(input);
      const headers = authHeaders(tokenCache, input, o);
      const beta = anthropicBeta(input, true);
      if (beta) headers['anthropic-beta'] = beta;
      const { model: _model, ...rest } = body;
      const payload = { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest };
      return {
        url: vertexURL(input, o, m, body.stream === true ? 'streamRawPredict' : 'rawPredict'),
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
      };
    },
    mapError: mapVertexError,
  };

  /**
   * Gemini models on the Messages API: the gateway's bridge (registered with the `messages` endpoint
   * by the plugin that serves it) wrapped around this provider's own chat adapter, so the Anthropic
   * request is translated to a chat request, sent with `generateContent`, and the answer translated
   * back. Wrapped once per gateway (per definition), never per request.
   */
  const bridged = new WeakMap<object, EndpointAdapter>();
  const geminiMessages = (input: BuildInput, model: string): EndpointAdapter => {
    // The request's endpoint definition (absent in inputs made without a gateway: unit tests).
    const bridge = input.definition?.id === 'messages' ? input.definition.bridge : undefined;
    const inner = bridge && bridge.via !== 'messages' ? endpoints[bridge.via] : undefined;
    if (!bridge || !inner) {
      throw new GatewayError(
        ErrorCode.UNSUPPORTED_ENDPOINT,
        400,
        `vertex-ai passes the Messages API through for Claude models only; ${model} is a Gemini model, and this gateway's Messages endpoint cannot translate to chat completions (load @waygate/anthropic-messages, or use /v1/chat/completions)`,
        { param: 'model' },
      );
    }
    let adapter = bridged.get(bridge);
    if (!adapter) bridged.set(bridge, (adapter = bridge.wrap(inner, 'vertex-ai')));
    return adapter;
  };
  /** The adapter that serves one Messages request: by the model's publisher. */
  const messagesFor = (input: BuildInput): EndpointAdapter => {
    const m = parseModel(input.body?.model);
    return m.publisher === 'anthropic' ? claudeMessages : geminiMessages(input, m.model);
  };

  /**
   * `/v1/messages`, dispatched per request: Claude → the pass-through above; Gemini → the bridge.
   * Every step that sees the request asks the same question; mapError does not see it, and
   * mapVertexError reads both Vertex's google.rpc errors and Claude's Anthropic-shaped ones (the
   * bridge maps errors with the chat adapter's mapError, which is mapVertexError too).
   */
  const messages: EndpointAdapter = {
    prepare: (input) => messagesFor(input).prepare?.(input),
    build: (input) => messagesFor(input).build(input),
    // The pass-through has no mapping: its answer is returned as it came (the kernel re-serializes it).
    mapResponse: (json, input, headers) => {
      const a = messagesFor(input);
      return a.mapResponse ? a.mapResponse(json, input, headers) : json;
    },
    // Undefined for the pass-through: the kernel then relays the upstream's events as they are and
    // checks the stream's proper end (message_stop), as for an adapter with no transformer at all.
    createStreamTransformer: (input) => messagesFor(input).createStreamTransformer?.(input) as StreamTransformer,
    mapError: mapVertexError,
  };

  return messages;
}
