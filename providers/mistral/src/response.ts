import { isObj } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';

/** A chat message's content as text (FIM answers a string; parts are joined). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/**
 * A FIM answer (chat-completion shaped: `choices[].message.content`) as an OpenAI `text_completion`:
 * each choice's content as its `text`, the id, model, created and usage kept.
 */
export function fimToCompletion(json: unknown): Json {
  if (!isObj(json) || !Array.isArray(json.choices)) throw badAnswer('answered a FIM completion without choices');
  const out: Json = {
    id: json.id,
    object: 'text_completion',
    created: json.created,
    model: json.model,
    choices: json.choices.filter(isObj).map((c, i) => ({
      index: typeof c.index === 'number' ? c.index : i,
      text: contentText(isObj(c.message) ? c.message.content : undefined),
      logprobs: null,
      finish_reason: c.finish_reason ?? null,
    })),
  };
  if (isObj(json.usage)) out.usage = json.usage;
  return out;
}
