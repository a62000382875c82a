import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError } from '@waygate/core';
import { targetOption } from '@waygate/provider-openai';
import { isObj, num } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/**
 * Requests to Mistral's API. Chat, embeddings and models are OpenAI's wire format, with the few
 * field names Mistral's strict validation refuses renamed; completions are Codestral's
 * fill-in-the-middle, `POST /v1/fim/completions` (`prompt`, `suffix`).
 */

export const invalid = (message: string, param?: string): GatewayError => badRequest(ErrorCode.INVALID_REQUEST, message, param);

/**
 * A chat body with what Mistral refuses (it answers 422 `extra_forbidden` for unknown fields) in
 * Mistral's names: `max_completion_tokens` → `max_tokens`, `seed` → `random_seed`, a `developer`
 * message → `system`. Undefined when there is nothing to rename (the client's bytes then go as they came).
 */
export function mistralChatBody(body: Json | undefined): Json | undefined {
  if (!body) return undefined;
  const renames = body.max_completion_tokens !== undefined || body.seed !== undefined;
  const developer = Array.isArray(body.messages) && body.messages.some((m) => isObj(m) && m.role === 'developer');
  if (!renames && !developer) return undefined;
  const out: Json = { ...body };
  if (out.max_completion_tokens !== undefined) {
    out.max_tokens ??= out.max_completion_tokens;
    delete out.max_completion_tokens;
  }
  if (out.seed !== undefined) {
    out.random_seed ??= out.seed;
    delete out.seed;
  }
  if (developer) out.messages = (body.messages as unknown[]).map((m) => (isObj(m) && m.role === 'developer' ? { ...m, role: 'system' } : m));
  return out;
}

/** Whether the target asks for Portkey's `mistral_fim_completion`: chat requests sent to FIM. */
export function fimForChat(input: BuildInput): boolean {
  const own = input.target.node.mistral_fim_completion;
  if (own === true || own === 'true') return true;
  return targetOption(input, 'mistral_fim_completion', 'mistral-fim-completion') === 'true';
}

/** The text of a message's content (a string, or its text parts joined). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (isObj(p) && p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

/** A chat request's FIM prompt: its own `prompt` (Portkey's field), else the text of its last user message. */
export function chatFimPrompt(body: Json): string {
  if (typeof body.prompt === 'string' && body.prompt !== '') return body.prompt;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m: unknown = messages[i];
    if (isObj(m) && m.role === 'user') return textOf(m.content);
  }
  throw invalid('mistral-ai: a fill-in-the-middle chat request needs `prompt` or a user message', 'messages');
}

/** An OpenAI completion's `prompt`: one string, or an array of one. */
export function completionPrompt(body: Json): string {
  const p = body.prompt;
  if (typeof p === 'string') return p;
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') return p[0];
  throw invalid('mistral-ai: `prompt` must be a string (one prompt per request)', 'prompt');
}

/**
 * The body of `POST /v1/fim/completions`: `model`, `prompt`, `suffix`, and the sampling fields it
 * takes (`temperature`, `top_p`, `max_tokens` from `max_completion_tokens` or `max_tokens`,
 * `min_tokens`, `stop`, `random_seed` from `seed`, `stream`). Fields FIM has no place for are refused
 * before Mistral would: `n` > 1, `echo`, `logprobs`, `best_of`.
 */
export function fimBody(body: Json, prompt: string): Json {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalid('mistral-ai: only n = 1 is supported by FIM', 'n');
  for (const k of ['echo', 'logprobs', 'best_of'] as const) {
    if (body[k] !== undefined && body[k] !== null && body[k] !== false) throw invalid(`mistral-ai: \`${k}\` is not supported by FIM`, k);
  }
  const out: Json = { model: body.model, prompt };
  if (typeof body.suffix === 'string') out.suffix = body.suffix;
  for (const k of ['temperature', 'top_p', 'min_tokens'] as const) {
    const v = num(body[k]);
    if (v !== undefined) out[k] = v;
  }
  const max = num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (max !== undefined) out.max_tokens = max;
  if (typeof body.stop === 'string' || Array.isArray(body.stop)) out.stop = body.stop;
  const seed = num(body.seed) ?? num(body.random_seed);
  if (seed !== undefined) out.random_seed = seed;
  if (body.stream === true) out.stream = true;
  return out;
}
