import type { BuildInput, Usage } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

export function finishReason(stop: unknown): string | null {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    case undefined:
    case null:
      return null;
    default:
      return 'stop';
  }
}

/** Bedrock usage → OpenAI usage: cache reads and writes count as prompt tokens; reads are reported as cached. */
export function toOpenAIUsage(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const read = Number(u.cacheReadInputTokens ?? 0);
  const write = Number(u.cacheWriteInputTokens ?? 0);
  const prompt = Number(u.inputTokens ?? 0) + read + write;
  const completion = Number(u.outputTokens ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (u.cacheReadInputTokens !== undefined || u.cacheWriteInputTokens !== undefined) usage.prompt_tokens_details = { cached_tokens: read };
  return usage;
}

export function toOpenAIResponse(json: Json, input: BuildInput): Json {
  const blocks: unknown[] =
    isObj(json.output) && isObj(json.output.message) && Array.isArray(json.output.message.content) ? json.output.message.content : [];
  let text = '';
  let sawText = false;
  let reasoning = '';
  const calls: Json[] = [];
  for (const b of blocks) {
    if (!isObj(b)) continue;
    if (typeof b.text === 'string') {
      text += b.text;
      sawText = true;
    } else if (isObj(b.toolUse)) {
      calls.push({
        id: String(b.toolUse.toolUseId),
        type: 'function',
        function: { name: String(b.toolUse.name), arguments: JSON.stringify(b.toolUse.input ?? {}) },
      });
    } else if (isObj(b.reasoningContent) && isObj(b.reasoningContent.reasoningText) && typeof b.reasoningContent.reasoningText.text === 'string') {
      reasoning += b.reasoningContent.reasoningText.text;
    }
  }
  const message: Json = { role: 'assistant', content: sawText ? text : null, refusal: null };
  if (calls.length) message.tool_calls = calls;
  if (reasoning) message.reasoning_content = reasoning;
  const out: Json = {
    id: `chatcmpl-${input.ctx.id}`,
    object: 'chat.completion',
    created: Math.floor((input.ctx.startedAt ?? Date.now()) / 1000),
    model: String(input.body?.model ?? ''),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(json.stopReason) ?? 'stop' }],
  };
  const usage = toOpenAIUsage(json.usage);
  if (usage) out.usage = usage;
  return out;
}
