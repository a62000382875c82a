import type { BuildInput, EndpointAdapter, ProviderAdapter, UpstreamRequest } from '@waygate/core';
import { createOpenAIWireAdapter } from '@waygate/provider-openai';
import { mapMistralError } from './errors.js';
import { chatFimPrompt, completionPrompt, fimBody, fimForChat, mistralChatBody } from './request.js';
import { fimToCompletion } from './response.js';
import { FimCompletionStream } from './stream.js';

/** Mistral's API, version 1. */
export const DEFAULT_BASE_URL = 'https://api.mistral.ai/v1';

/** `POST {base}/fim/completions` with the FIM body, the key as a bearer token. */
function fimRequest(input: BuildInput, prompt: string): UpstreamRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
  if (input.body?.stream === true) headers.accept = 'text/event-stream';
  return { url: `${input.target.baseURL}/fim/completions`, method: 'POST', headers, body: JSON.stringify(fimBody(input.body ?? {}, prompt)) };
}

/**
 * The `mistral-ai` adapter. Chat, embeddings and models speak OpenAI's wire format (the OpenAI
 * adapter's, with Mistral's field names where it refuses OpenAI's); a chat request whose target sets
 * `mistral_fim_completion` (Portkey's option) goes to FIM instead, answered in chat shape as Mistral
 * answers it. OpenAI completions are FIM: `prompt` and `suffix` to `/fim/completions`, the answer
 * and stream mapped to `text_completion`. Files and any other `/v1/*` path (`/v1/ocr`,
 * `/v1/fim/completions` as Mistral's own, `/v1/agents/...`) are forwarded as they came.
 */
export function createMistralProvider(): ProviderAdapter {
  const wire = createOpenAIWireAdapter({
    id: 'mistral-ai',
    displayName: 'Mistral AI',
    baseURL: DEFAULT_BASE_URL,
    endpoints: ['chat.completions', 'embeddings', 'models', 'files', 'passthrough'],
  });
  const endpoints = wire.endpoints;
  const wireChat = endpoints['chat.completions']!;
  const chat: EndpointAdapter = {
    ...wireChat,
    build: (input) => {
      if (fimForChat(input)) return fimRequest(input, chatFimPrompt(input.body ?? {}));
      const renamed = mistralChatBody(input.body);
      return wireChat.build(renamed ? { ...input, body: renamed, rawBody: undefined } : input);
    },
  };
  const completions: EndpointAdapter = {
    build: (input) => fimRequest(input, completionPrompt(input.body ?? {})),
    mapResponse: (json) => fimToCompletion(json),
    createStreamTransformer: () => new FimCompletionStream(),
  };
  for (const e of [chat, completions, endpoints.embeddings, endpoints.models]) if (e) e.mapError = mapMistralError;
  return { ...wire, endpoints: { ...endpoints, 'chat.completions': chat, completions } };
}

export const mistral: ProviderAdapter = createMistralProvider();
