import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import { mapWatsonxError } from './errors.js';
import type { IamTokens } from './iam.js';
import { SLOT, WATSONX_HOST_TEMPLATE, buildChat, buildGateway, isBearerToken, scopeOf } from './request.js';
import { fromWatsonxChat } from './response.js';
import { GatewayPassThrough, WatsonxStreamTransformer } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'watsonx');

/**
 * IBM watsonx.ai: chat natively (text/chat) when the target names a project or space, else through
 * the model gateway; completions, embeddings and models through the model gateway. An IBM Cloud API
 * key is exchanged for an IAM token in prepare() (cached by `tokens`); a key that is already a token
 * is sent as it is.
 */
export function createWatsonxProvider(tokens: IamTokens): ProviderAdapter {
  const prepare = (input: BuildInput): Promise<void> | void => {
    const key = input.target.apiKey;
    if (!key || isBearerToken(key)) return undefined;
    const t = tokens.get(key);
    const prepared = (input.prepared ??= {});
    if (typeof t === 'string') {
      prepared[SLOT] = t;
      return undefined;
    }
    return t.then((token) => {
      prepared[SLOT] = token;
    });
  };
  const chat: EndpointAdapter = {
    prepare,
    build: buildChat,
    mapResponse: (json, input) => (scopeOf(input) ? fromWatsonxChat(json, modelOf(input)) : json),
    createStreamTransformer(input) {
      if (!scopeOf(input)) return new GatewayPassThrough();
      const so = input.body?.stream_options;
      return new WatsonxStreamTransformer(modelOf(input), isObj(so) && so.include_usage === true);
    },
    mapError: mapWatsonxError,
  };
  const gateway = (path: string, method: 'GET' | 'POST' = 'POST'): EndpointAdapter => ({
    prepare,
    build: (input) => buildGateway(input, path, method),
    mapError: mapWatsonxError,
  });
  return {
    id: 'watsonx',
    displayName: 'IBM watsonx.ai',
    baseURL: WATSONX_HOST_TEMPLATE,
    endpoints: { 'chat.completions': chat, completions: gateway('/completions'), embeddings: gateway('/embeddings'), models: gateway('/models', 'GET') },
  };
}
