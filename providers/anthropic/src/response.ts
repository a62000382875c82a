import type { Usage } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** Anthropic's stop_reason as OpenAI's finish_reason. */
export function finishReason(stop: unknown): string | null {
  if (stop === null || stop === undefined) return null;
  return FINISH[String(stop)] ?? 'stop';
}

/** Anthropic usage → OpenAI usage: cached and cache-written input tokens count as prompt tokens. */
export function toOpenAIUsage(u: Json | undefined): Usage {
  const input = Number(u?.input_tokens ?? 0);
  const read = Number(u?.cache_read_input_tokens ?? 0);
  const created = Number(u?.cache_creation_input_tokens ?? 0);
  const output = Number(u?.output_tokens ?? 0);
  const prompt = input + read + created;
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { cached_tokens: read },
    cache_read_input_tokens: read,
    cache_creation_input_tokens: created,
  };
}

/** Translates an Anthropic Messages answer to an OpenAI chat.completion. */
export function toOpenAIResponse(msg: Json): Json {
  const blocks: Json[] = Array.isArray(msg.content) ? msg.content : [];
  let text = '';
  let sawText = false;
  let reasoning = '';
  const thinking: Json[] = [];
  const calls: Json[] = [];
  for (const b of blocks) {
    if (!isObj(b)) continue;
    if (b.type === 'text') {
      text += b.text ?? '';
      sawText = true;
    } else if (b.type === 'tool_use') {
      calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type === 'thinking') {
      reasoning += b.thinking ?? '';
      thinking.push(b);
    } else if (b.type === 'redacted_thinking') {
      thinking.push(b);
    }
  }
  const message: Json = { role: 'assistant', content: sawText ? text : null, refusal: null };
  if (calls.length) message.tool_calls = calls;
  if (thinking.length) {
    message.reasoning_content = reasoning;
    message.thinking_blocks = thinking;
  }
  return {
    id: msg.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: msg.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(msg.stop_reason) ?? 'stop' }],
    usage: toOpenAIUsage(msg.usage),
  };
}
