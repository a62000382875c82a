import type { Endpoint, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { NATIVE_PASSTHROUGH } from '@waygate/provider-kit';
import { AZURE_FORWARDED, AZURE_HOST_TEMPLATE, azurePassthroughNative, azureRequest } from './request.js';
import { AzureStreamTransformer } from './stream.js';
import { azureResponseItem, azureResponses } from './responses.js';

function azureEndpoint(name: Endpoint): EndpointAdapter {
  return {
    build: azureRequest(name),
    ...(name === 'chat.completions' || name === 'completions' ? { createStreamTransformer: () => new AzureStreamTransformer() } : {}),
  };
}

/**
 * The Azure OpenAI adapter: OpenAI's wire format at Azure's URLs, with `api-key` or Entra auth;
 * images and audio (per deployment), files and batches (per resource) forwarded as they came.
 */
export const azureOpenAI: ProviderAdapter = {
  id: 'azure-openai',
  displayName: 'Azure OpenAI',
  baseURL: AZURE_HOST_TEMPLATE,
  endpoints: {
    'chat.completions': azureEndpoint('chat.completions'),
    completions: azureEndpoint('completions'),
    embeddings: azureEndpoint('embeddings'),
    ...Object.fromEntries(AZURE_FORWARDED.map((name) => [name, azureEndpoint(name)])),
    responses: azureResponses,
    'responses.item': azureResponseItem,
    [NATIVE_PASSTHROUGH]: azurePassthroughNative,
  },
};
