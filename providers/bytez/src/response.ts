import { isObj } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { answerError, badAnswer } from './errors.js';

/**
 * The text of Bytez's `output`: a chat model answers a message (`{role: 'assistant', content}`,
 * the content a string or `[{type: 'text', text}]` blocks); a text-generation model a string.
 */
export function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  const content = isObj(output) ? output.content : undefined;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((b) => (typeof b === 'string' ? b : isObj(b) && typeof b.text === 'string' ? b.text : '')).join('');
  }
  throw badAnswer('answered an output that is not a message or text');
}

/**
 * Bytez's `{error, output}` answer → an OpenAI chat completion. `error` set (Bytez answers some
 * failures with a 200) is a 502; Bytez reports no token usage and no finish reason (`stop`).
 */
export function fromBytezChat(json: unknown, model: string, id: string): Json {
  if (!isObj(json) || !('output' in json || 'error' in json)) throw badAnswer('answered without {error, output}');
  if (json.error !== null && json.error !== undefined) throw answerError(json);
  return {
    id: `chatcmpl-bytez-${id}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: outputText(json.output) }, logprobs: null, finish_reason: 'stop' }],
  };
}
