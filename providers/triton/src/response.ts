import { badAnswer, streamError } from './errors.js';
import { isObj, str } from './json.js';
import type { Json } from './json.js';

/**
 * The generate extension's answer, `{model_name, model_version, text_output}` → OpenAI's. Triton
 * reports no token counts and no finish reason: no usage, and `finish_reason` `stop`.
 */

const now = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}-triton-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** The text of a generate answer (`text_output`; an error object, or no text, is a 502). */
export function textOutput(json: unknown): { text: string; model?: string } {
  if (!isObj(json)) throw badAnswer('answered something that is not a JSON object', json);
  if (json.error !== undefined) throw streamError(json);
  const t = json.text_output;
  // A model whose output tensor is a batch answers an array of strings.
  const text = typeof t === 'string' ? t : Array.isArray(t) && t.every((x) => typeof x === 'string') ? t.join('') : undefined;
  if (text === undefined) throw badAnswer('answered without text_output', json);
  return { text, model: str(json.model_name) };
}

export function fromTritonChat(json: unknown, model: string): Json {
  const { text, model: name } = textOutput(json);
  return {
    id: newId('chatcmpl'),
    object: 'chat.completion',
    created: now(),
    model: name ?? model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: 'stop' }],
  };
}

export function fromTritonCompletion(json: unknown, model: string): Json {
  const { text, model: name } = textOutput(json);
  return {
    id: newId('cmpl'),
    object: 'text_completion',
    created: now(),
    model: name ?? model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
  };
}

/** The repository index (`[{name, version, state}]`) → OpenAI's model list, the models that are READY. */
export function fromTritonIndex(json: unknown): Json {
  if (!Array.isArray(json)) throw badAnswer('answered the repository index with something that is not an array', json);
  const names = new Set<string>();
  for (const m of json) if (isObj(m) && typeof m.name === 'string' && (m.state === undefined || m.state === 'READY')) names.add(m.name);
  return { object: 'list', data: [...names].map((id) => ({ id, object: 'model', created: 0, owned_by: 'triton' })) };
}
