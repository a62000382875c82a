import type { Usage } from '@waygate/core';
import { isObj, num, openAIUsage } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';

/** watsonx's usage (OpenAI's field names). */
export const usageOf: (u: unknown) => Usage | undefined = openAIUsage;

/** A native text/chat answer (`{id, model_id, created, choices, usage}`) → an OpenAI chat completion. */
export function fromWatsonxChat(json: unknown, model: string): Json {
  if (!isObj(json) || !Array.isArray(json.choices) || json.choices.length === 0) throw badAnswer('answered without choices');
  const choices = json.choices.map((c: unknown, i: number) => {
    const choice = isObj(c) ? c : {};
    const msg = isObj(choice.message) ? choice.message : {};
    const message: Json = { role: 'assistant', content: typeof msg.content === 'string' ? msg.content : null };
    if (Array.isArray(msg.tool_calls) && msg.tool_calls.length) message.tool_calls = msg.tool_calls;
    return {
      index: num(choice.index) ?? i,
      message,
      logprobs: choice.logprobs ?? null,
      finish_reason: typeof choice.finish_reason === 'string' ? choice.finish_reason : 'stop',
    };
  });
  const out: Json = {
    id: typeof json.id === 'string' ? json.id : 'watsonx-chat',
    object: 'chat.completion',
    created: num(json.created) ?? Math.floor(Date.now() / 1000),
    model: typeof json.model_id === 'string' ? json.model_id : model,
    choices,
  };
  const usage = usageOf(json.usage);
  if (usage) out.usage = usage;
  return out;
}
