import type { Usage } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

/** Gemini's finishReason as OpenAI's finish_reason (tool calls win over STOP). */
export function finishReason(reason: unknown, hasToolCalls = false): string | null {
  if (reason === null || reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return hasToolCalls ? 'tool_calls' : null;
  const r = String(reason);
  if (FILTERED.has(r)) return 'content_filter';
  if (r === 'MAX_TOKENS') return 'length';
  if (hasToolCalls) return 'tool_calls';
  return 'stop';
}

/** Gemini usageMetadata → OpenAI usage: thoughts count as completion tokens; cached tokens are part of the prompt. */
export function toOpenAIUsage(u: Json | undefined): Usage {
  const prompt = Number(u?.promptTokenCount ?? 0) + Number(u?.toolUsePromptTokenCount ?? 0);
  const thoughts = Number(u?.thoughtsTokenCount ?? 0);
  const completion = Number(u?.candidatesTokenCount ?? 0) + thoughts;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Number(u?.cachedContentTokenCount ?? 0) },
  };
  if (thoughts) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

/** A candidate's parts as OpenAI message fields. */
export function readParts(parts: unknown, firstCall: number): { text: string; sawText: boolean; reasoning: string; calls: Json[] } {
  let text = '';
  let sawText = false;
  let reasoning = '';
  const calls: Json[] = [];
  for (const p of Array.isArray(parts) ? parts : []) {
    if (!isObj(p)) continue;
    if (typeof p.text === 'string') {
      if (p.thought === true) reasoning += p.text;
      else {
        text += p.text;
        sawText = true;
      }
    } else if (isObj(p.functionCall)) {
      const id = typeof p.functionCall.id === 'string' && p.functionCall.id ? p.functionCall.id : `call_${firstCall + calls.length}`;
      const call: Json = {
        id,
        type: 'function',
        function: { name: String(p.functionCall.name ?? ''), arguments: JSON.stringify(p.functionCall.args ?? {}) },
      };
      if (typeof p.thoughtSignature === 'string' && p.thoughtSignature) call.extra_content = { google: { thought_signature: p.thoughtSignature } };
      calls.push(call);
    }
  }
  return { text, sawText, reasoning, calls };
}

/** Translates a Gemini GenerateContentResponse to an OpenAI chat.completion. */
export function toOpenAIResponse(res: Json, requestModel?: unknown): Json {
  const candidates: Json[] = Array.isArray(res.candidates) ? res.candidates.filter(isObj) : [];
  const choices = candidates.map((c, i) => {
    const { text, sawText, reasoning, calls } = readParts(isObj(c.content) ? c.content.parts : undefined, 0);
    const message: Json = { role: 'assistant', content: sawText ? text : null, refusal: null };
    if (calls.length) message.tool_calls = calls;
    if (reasoning) message.reasoning_content = reasoning;
    return {
      index: typeof c.index === 'number' ? c.index : i,
      message,
      logprobs: null,
      finish_reason: finishReason(c.finishReason, calls.length > 0) ?? 'stop',
    };
  });
  if (!choices.length) {
    // No candidates: the prompt itself was blocked (promptFeedback.blockReason).
    const blocked = isObj(res.promptFeedback) && res.promptFeedback.blockReason;
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null, refusal: null },
      logprobs: null,
      finish_reason: blocked ? 'content_filter' : 'stop',
    });
  }
  return {
    id: `chatcmpl-${typeof res.responseId === 'string' && res.responseId ? res.responseId : Date.now().toString(36)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof res.modelVersion === 'string' ? res.modelVersion : String(requestModel ?? ''),
    choices,
    usage: toOpenAIUsage(isObj(res.usageMetadata) ? res.usageMetadata : undefined),
  };
}
