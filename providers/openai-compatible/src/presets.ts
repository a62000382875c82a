import type { Endpoint } from '@waygate/core';

export interface Preset {
  displayName: string;
  /** Default base URL with the version path; absent for self-hosted servers, which need a custom host. */
  baseURL?: string;
  endpoints: readonly Endpoint[];
  /** Voyage's own field names (rerank `top_k` and `data`; embeddings usage as `total_tokens` only); default: OpenAI's and Cohere's. */
  dialect?: 'voyage';
}

const ALL: readonly Endpoint[] = ['chat.completions', 'completions', 'embeddings', 'models'];

/** Providers that speak OpenAI's wire format, by slug (Portkey's slugs). Base URLs are each provider's documented ones. */
export const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  groq: {
    displayName: 'Groq',
    baseURL: 'https://api.groq.com/openai/v1',
    endpoints: ['chat.completions', 'models', 'audio.transcriptions', 'audio.translations', 'audio.speech'],
  },
  'together-ai': { displayName: 'Together AI', baseURL: 'https://api.together.xyz/v1', endpoints: [...ALL, 'rerank', 'images.generations'] },
  'fireworks-ai': { displayName: 'Fireworks AI', baseURL: 'https://api.fireworks.ai/inference/v1', endpoints: ALL },
  deepseek: { displayName: 'DeepSeek', baseURL: 'https://api.deepseek.com/v1', endpoints: ['chat.completions', 'models'] },
  'x-ai': { displayName: 'xAI', baseURL: 'https://api.x.ai/v1', endpoints: ALL },
  'perplexity-ai': { displayName: 'Perplexity', baseURL: 'https://api.perplexity.ai', endpoints: ['chat.completions'] },
  openrouter: { displayName: 'OpenRouter', baseURL: 'https://openrouter.ai/api/v1', endpoints: ['chat.completions', 'completions', 'models'] },
  'mistral-ai': { displayName: 'Mistral AI', baseURL: 'https://api.mistral.ai/v1', endpoints: ['chat.completions', 'embeddings', 'models'] },
  cerebras: { displayName: 'Cerebras', baseURL: 'https://api.cerebras.ai/v1', endpoints: ['chat.completions', 'completions', 'models'] },
  deepinfra: { displayName: 'DeepInfra', baseURL: 'https://api.deepinfra.com/v1/openai', endpoints: ALL },
  sambanova: { displayName: 'SambaNova', baseURL: 'https://api.sambanova.ai/v1', endpoints: ['chat.completions', 'embeddings', 'models'] },
  nebius: { displayName: 'Nebius AI Studio', baseURL: 'https://api.studio.nebius.com/v1', endpoints: ALL },
  hyperbolic: { displayName: 'Hyperbolic', baseURL: 'https://api.hyperbolic.xyz/v1', endpoints: ['chat.completions', 'completions', 'models'] },
  'novita-ai': { displayName: 'Novita AI', baseURL: 'https://api.novita.ai/v3/openai', endpoints: ALL },
  ollama: { displayName: 'Ollama', endpoints: ALL },
  vllm: { displayName: 'vLLM', endpoints: [...ALL, 'rerank'] },
  lmstudio: { displayName: 'LM Studio', endpoints: ALL },
  // Embeddings and rerank only (no chat): rerank in Cohere's shape (Jina) or Voyage's.
  jina: { displayName: 'Jina AI', baseURL: 'https://api.jina.ai/v1', endpoints: ['embeddings', 'rerank'] },
  voyage: { displayName: 'Voyage AI', baseURL: 'https://api.voyageai.com/v1', endpoints: ['embeddings', 'rerank'], dialect: 'voyage' },
});
