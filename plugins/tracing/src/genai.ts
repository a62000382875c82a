/**
 * The GenAI semantic conventions of OpenTelemetry, as the gateway's endpoints and providers map to
 * them: `gen_ai.operation.name`, `gen_ai.provider.name` (the well-known values; any other provider
 * is its slug) and the finish reasons of an answer in OpenAI's, Anthropic's or the Responses shape.
 */

const OPERATIONS: Record<string, string> = {
  'chat.completions': 'chat',
  messages: 'chat',
  responses: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
};

/** `gen_ai.operation.name` for an endpoint id; an endpoint with no convention keeps its id. */
export const operationName = (endpoint: string): string => OPERATIONS[endpoint] ?? endpoint;

const PROVIDERS: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  bedrock: 'aws.bedrock',
  'azure-openai': 'azure.ai.openai',
  'azure-ai': 'azure.ai.inference',
  google: 'gcp.gemini',
  'vertex-ai': 'gcp.vertex_ai',
  cohere: 'cohere',
  deepseek: 'deepseek',
  groq: 'groq',
  'mistral-ai': 'mistral_ai',
  'perplexity-ai': 'perplexity',
  'x-ai': 'x_ai',
  watsonx: 'ibm.watsonx.ai',
};

/** `gen_ai.provider.name` for a provider slug. */
export const providerName = (slug: string): string => PROVIDERS[slug] ?? slug;

/** The finish reasons a JSON answer reports (OpenAI's choices, Anthropic's stop_reason, a Response's status). */
export function finishReasons(body: unknown): string[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as { choices?: unknown; stop_reason?: unknown; object?: unknown; status?: unknown };
  if (Array.isArray(b.choices)) {
    return b.choices.map((c: unknown) => (c as { finish_reason?: unknown } | null)?.finish_reason).filter((r): r is string => typeof r === 'string');
  }
  if (typeof b.stop_reason === 'string') return [b.stop_reason];
  if (b.object === 'response' && typeof b.status === 'string') return [b.status];
  return [];
}
