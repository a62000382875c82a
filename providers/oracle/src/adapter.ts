import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { buildEmbeddings, mapEmbeddings } from './embeddings.js';
import { mapOracleError } from './errors.js';
import { isObj } from './json.js';
import { DEFAULT_BASE_URL, buildChat } from './request.js';
import { toOpenAIResponse } from './response.js';
import { OracleStreamTransformer } from './stream.js';

/**
 * OCI Generative AI inference behind Waygate's canonical (OpenAI) format: chat completions through
 * `POST /20231130/actions/chat` (GENERIC or COHERE chat requests, SSE streams with isStream) and
 * embeddings through `POST /20231130/actions/embedText`, on
 * `inference.generativeai.{region}.oci.oraclecloud.com`, each request signed with the caller's OCI
 * API signing key (HTTP Signature, rsa-sha256).
 */

export const chatCompletions: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => (isObj(json) ? toOpenAIResponse(json, input) : json),
  createStreamTransformer: (input) => new OracleStreamTransformer(input),
  mapError: mapOracleError,
};

export const embeddings: EndpointAdapter = { build: buildEmbeddings, mapResponse: mapEmbeddings, mapError: mapOracleError };

/** The oracle provider adapter (Portkey's slug `oracle`). */
export const oracle: ProviderAdapter = {
  id: 'oracle',
  displayName: 'OCI Generative AI',
  baseURL: DEFAULT_BASE_URL,
  endpoints: { 'chat.completions': chatCompletions, embeddings },
};
