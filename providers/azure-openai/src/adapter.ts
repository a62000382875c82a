import type { Endpoint, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { AZURE_HOST_TEMPLATE, azureRequest } from './request.js';
import { AzureStreamTransformer } from './stream.js';
import { azureResponseItem, azureResponses } from './responses.js';

function azureEndpoint(name: Endpoint): EndpointAdapter {
  return {
    build: azureRequest(name),
    ...(name === 'chat.completions' || name === 'completions' ? { createStreamTransformer: () => new AzureStreamTransformer() } : {}),
  };
}

/** The Azure OpenAI adapter: OpenAI's wire format at Azure's URLs, with `api-key` or Entra auth. */
export const azureOpenAI: ProviderAdapter = {
  id: 'azure-openai',
  displayName: 'Azure OpenAI',
  baseURL: AZURE_HOST_TEMPLATE,
  endpoints: {
    'chat.completions': azureEndpoint('chat.completions'),
    completions: azureEndpoint('completions'),
    embeddings: azureEndpoint('embeddings'),
    responses: azureResponses,
    'responses.item': azureResponseItem,
  },
};
