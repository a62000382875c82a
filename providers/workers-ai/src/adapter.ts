import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapWorkersAIError } from './errors.js';
import { isObj, num } from './json.js';
import { BASE_URL_TEMPLATE, buildChat, buildCompletion, buildEmbeddings } from './request.js';
import { fromWorkersChat, fromWorkersCompletion, fromWorkersEmbed } from './response.js';
import { WorkersAIStreamTransformer } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'workers-ai');
const maxTokensOf = (input: BuildInput): number | undefined => num(input.body?.max_completion_tokens) ?? num(input.body?.max_tokens);
const includeUsage = (input: BuildInput): boolean => {
  const so = input.body?.stream_options;
  return isObj(so) && so.include_usage === true;
};

const chat: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => fromWorkersChat(json, modelOf(input), maxTokensOf(input)),
  createStreamTransformer: (input) => new WorkersAIStreamTransformer('chat', modelOf(input), includeUsage(input), maxTokensOf(input)),
  mapError: mapWorkersAIError,
};

const completions: EndpointAdapter = {
  build: buildCompletion,
  mapResponse: (json, input) => fromWorkersCompletion(json, modelOf(input), maxTokensOf(input)),
  createStreamTransformer: (input) => new WorkersAIStreamTransformer('completion', modelOf(input), includeUsage(input), maxTokensOf(input)),
  mapError: mapWorkersAIError,
};

const embeddings: EndpointAdapter = {
  build: buildEmbeddings,
  mapResponse: (json, input) => fromWorkersEmbed(json, modelOf(input), input.body?.encoding_format),
  mapError: mapWorkersAIError,
};

/**
 * The `workers-ai` adapter: Cloudflare Workers AI's native REST API, `POST {base}/{model}` for every
 * model, translated to and from OpenAI's chat completions, completions and embeddings. The base URL
 * is a template filled from the target's `workers_ai_account_id`; a custom host replaces it.
 */
export const workersAI: ProviderAdapter = {
  id: 'workers-ai',
  displayName: 'Cloudflare Workers AI',
  baseURL: BASE_URL_TEMPLATE,
  endpoints: { 'chat.completions': chat, completions, embeddings },
};
