import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapSageMakerError } from './errors.js';
import { DEFAULT_BASE_URL, buildChat, buildEmbeddings } from './request.js';
import { decodeSageMakerStream } from './stream.js';

/**
 * Amazon SageMaker real-time endpoints behind Waygate's canonical (OpenAI) format. The LLM containers
 * SageMaker hosts speak OpenAI's chat completions (and embeddings) through InvokeEndpoint, so the
 * body goes as it is and the JSON answer comes back as it is; a stream comes through
 * InvokeEndpointWithResponseStream as AWS event-stream frames whose PayloadParts carry the
 * container's own server-sent events, relayed whole and ending with `data: [DONE]`. Every request
 * is signed with SigV4 (service `sagemaker`) by the Bedrock adapter's signer.
 */

export const chatCompletions: EndpointAdapter = {
  build: buildChat,
  decodeStream: decodeSageMakerStream,
  mapError: mapSageMakerError,
};

export const embeddings: EndpointAdapter = { build: buildEmbeddings, mapError: mapSageMakerError };

/** The SageMaker provider adapter. */
export const sagemaker: ProviderAdapter = {
  id: 'sagemaker',
  displayName: 'Amazon SageMaker',
  baseURL: DEFAULT_BASE_URL,
  endpoints: { 'chat.completions': chatCompletions, embeddings },
};
