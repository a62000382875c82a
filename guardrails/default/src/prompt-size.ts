/**
 * promptSize: an estimate of the prompt's tokens, so an oversize request is denied before a
 * provider bills it. No tokenizer is loaded: the estimate is a cheap walk over the body.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import { isPlainObject } from './common.js';

/** Tokens per message that chat formats add around each message, and for priming the reply. */
const PER_MESSAGE = 4;
const REPLY_PRIMING = 3;
/** A flat cost per image: OpenAI's low-detail price, so the estimate stays a floor for images. */
const PER_IMAGE = 85;

/**
 * Tokens of a string: ASCII counts a quarter token per character (about 4 characters a token, as
 * for English and code); CJK ideographs, kana and Hangul one token each (they rarely share one);
 * every other character half a token (Cyrillic, Greek, Arabic, Devanagari, accents and emoji
 * tokenize at 2 or fewer characters a token). Fractions are summed and rounded up at the end.
 */
export function estimateTextTokens(text: string): number {
  let ascii = 0;
  let wide = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) ascii++;
    else if ((c >= 0x2e80 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff00 && c <= 0xffef)) wide++;
    else if (c >= 0xdc00 && c <= 0xdfff)
      continue; // the second half of a surrogate pair
    else other++;
  }
  return ascii / 4 + wide + other / 2;
}

/** The estimated prompt tokens of a request body (chat, Anthropic messages, completions, embeddings). */
export function estimatePromptTokens(body: Record<string, unknown> | undefined, fallbackText = ''): number {
  if (!body) return Math.ceil(estimateTextTokens(fallbackText));
  let t = 0;
  const text = (v: unknown): void => {
    if (typeof v === 'string') t += estimateTextTokens(v);
  };
  const json = (v: unknown): void => {
    if (v !== undefined && v !== null) t += estimateTextTokens(typeof v === 'string' ? v : JSON.stringify(v));
  };
  /** Content as a string, OpenAI parts or Anthropic blocks. */
  const content = (c: unknown): void => {
    if (typeof c === 'string') return text(c);
    if (!Array.isArray(c)) return;
    for (const part of c) {
      if (typeof part === 'string') text(part);
      if (!isPlainObject(part)) continue;
      switch (part.type) {
        case 'text':
        case 'input_text':
          text(part.text);
          break;
        case 'image_url':
        case 'image':
        case 'input_image':
          t += PER_IMAGE;
          break;
        case 'thinking':
          text(part.thinking);
          break;
        case 'tool_use':
          text(part.name);
          json(part.input);
          break;
        case 'tool_result':
          content(part.content);
          break;
        case 'document':
          if (isPlainObject(part.source) && part.source.type === 'text') text(part.source.data);
          break;
        default:
          break;
      }
    }
  };

  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (!isPlainObject(m)) continue;
      t += PER_MESSAGE;
      content(m.content);
      text(m.name);
      if (Array.isArray(m.tool_calls)) {
        for (const call of m.tool_calls) {
          const fn = isPlainObject(call) ? call.function : undefined;
          if (isPlainObject(fn)) {
            text(fn.name);
            text(fn.arguments);
          }
        }
      }
      if (isPlainObject(m.function_call)) {
        text(m.function_call.name);
        text(m.function_call.arguments);
      }
    }
    t += REPLY_PRIMING;
  }
  content(body.system);
  json(body.tools);
  json(body.functions);
  if (isPlainObject(body.response_format) && body.response_format.type === 'json_schema') json(body.response_format.json_schema);
  for (const key of ['prompt', 'input'] as const) {
    const v = body[key];
    if (typeof v === 'string') text(v);
    else if (Array.isArray(v)) {
      for (const item of v) {
        if (typeof item === 'string') text(item);
        else if (typeof item === 'number')
          t += 1; // a token id: counted exactly
        else if (Array.isArray(item)) t += item.length;
        else if (isPlainObject(item)) {
          // A Responses-style input item: a message with content.
          t += PER_MESSAGE;
          content(item.content);
        }
      }
    }
  }
  return Math.ceil(t);
}

const PromptSizeParams = z
  .strictObject({
    maxTokens: z.number().int().min(1),
    minTokens: z.number().int().min(0).default(0),
  })
  .refine((p) => p.minTokens <= p.maxTokens, { message: 'minTokens is greater than maxTokens', path: ['minTokens'] });

/**
 * The prompt's estimated tokens (every message, the system prompt, tool definitions and a JSON
 * response schema; see estimateTextTokens) are within [minTokens, maxTokens]. With `deny`, an
 * oversize prompt never reaches the provider.
 */
export const promptSize = defineCheck({
  id: 'promptSize',
  hooks: ['beforeRequest'],
  params: PromptSizeParams,
  run({ params, request }) {
    const tokens = estimatePromptTokens(request.json, request.text);
    const verdict = tokens >= params.minTokens && tokens <= params.maxTokens;
    return {
      verdict,
      data: {
        explanation: `The prompt is about ${tokens} tokens: ${verdict ? 'within' : 'outside'} ${params.minTokens}–${params.maxTokens}.`,
        estimatedTokens: tokens,
        minTokens: params.minTokens,
        maxTokens: params.maxTokens,
      },
    };
  },
});
