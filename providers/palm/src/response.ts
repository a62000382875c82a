import { base64Embedding, isObj } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';

/**
 * PaLM's answers → OpenAI's. PaLM reports no token usage and no finish reason: a candidate is `stop`;
 * an answer whose candidates were all filtered (`filters` and no `candidates`) is one choice with no
 * text and `content_filter`. The filters' reasons are kept in `palm_filters`.
 */

const created = (): number => Math.floor(Date.now() / 1000);

function filtered(json: Json): boolean {
  return (!Array.isArray(json.candidates) || json.candidates.length === 0) && Array.isArray(json.filters) && json.filters.length > 0;
}

function candidates(json: unknown, what: string): Json[] | undefined {
  if (!isObj(json)) throw badAnswer(`answered without ${what}`);
  if (filtered(json)) return undefined;
  if (!Array.isArray(json.candidates) || json.candidates.length === 0) throw badAnswer(`answered without candidates`);
  return json.candidates.map((c: unknown) => (isObj(c) ? c : {}));
}

function withFilters(out: Json, json: Json): Json {
  if (Array.isArray(json.filters) && json.filters.length) out.palm_filters = json.filters;
  return out;
}

/** A generateMessage answer (`candidates[]` of `{author, content}`) → a chat completion. */
export function fromPalmMessage(json: unknown, model: string, id: string): Json {
  const list = candidates(json, 'candidates');
  const choices = list
    ? list.map((c, index) => {
        if (typeof c.content !== 'string') throw badAnswer('answered a candidate without content');
        return { index, message: { role: 'assistant', content: c.content }, logprobs: null, finish_reason: 'stop' };
      })
    : [{ index: 0, message: { role: 'assistant', content: null }, logprobs: null, finish_reason: 'content_filter' }];
  return withFilters({ id: `chatcmpl-palm-${id}`, object: 'chat.completion', created: created(), model, choices }, json as Json);
}

/** A generateText answer (`candidates[]` of `{output}`) → a text completion. */
export function fromPalmText(json: unknown, model: string, id: string): Json {
  const list = candidates(json, 'candidates');
  const choices = list
    ? list.map((c, index) => {
        if (typeof c.output !== 'string') throw badAnswer('answered a candidate without output');
        return { index, text: c.output, logprobs: null, finish_reason: 'stop' };
      })
    : [{ index: 0, text: '', logprobs: null, finish_reason: 'content_filter' }];
  return withFilters({ id: `cmpl-palm-${id}`, object: 'text_completion', created: created(), model, choices }, json as Json);
}

/** An embedText (`embedding.value`) or batchEmbedText (`embeddings[].value`) answer → OpenAI's list (PaLM reports no usage). */
export function fromPalmEmbed(json: unknown, model: string, count: number, encoding?: unknown): Json {
  const vectors = isObj(json)
    ? isObj(json.embedding)
      ? [json.embedding.value]
      : Array.isArray(json.embeddings)
        ? json.embeddings.map((e: unknown) => (isObj(e) ? e.value : undefined))
        : []
    : [];
  if (vectors.length !== count || vectors.some((v: unknown) => !Array.isArray(v) || v.some((x) => typeof x !== 'number'))) {
    throw badAnswer(`answered ${vectors.length} embeddings for ${count} texts`);
  }
  return {
    object: 'list',
    data: vectors.map((v: number[], index: number) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? base64Embedding(v) : v })),
    model,
  };
}
