import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { contentText, isObj, num } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/**
 * Requests to Google's PaLM API (`https://generativelanguage.googleapis.com/v1beta3`, or `v1beta2`
 * as a custom host): `POST {base}/models/{model}:generateMessage` for chat, `:generateText` for
 * completions, `:embedText` / `:batchEmbedText` for embeddings. The key goes in `x-goog-api-key`
 * (Google's header for API keys), never in the URL.
 */

export function invalid(message: string, param?: string): GatewayError {
  return badRequest(ErrorCode.INVALID_REQUEST, message, param);
}

/** `chat-bison-001` or `models/chat-bison-001` → `models/chat-bison-001`; a name PaLM could not hold is a 400. */
export function modelPath(model: unknown): string {
  if (typeof model !== 'string' || !model) throw invalid('model is required, e.g. "chat-bison-001"', 'model');
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw invalid(`model ${JSON.stringify(model)} is not a PaLM model name`, 'model');
  return `models/${name}`;
}

function headers(input: BuildInput): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (input.target.apiKey) h['x-goog-api-key'] = input.target.apiKey;
  return h;
}

function post(input: BuildInput, method: string, body: Json): UpstreamRequest {
  return { url: `${input.target.baseURL}/${modelPath(input.body?.model)}:${method}`, method: 'POST', headers: headers(input), body: JSON.stringify(body) };
}

/** The text of an OpenAI message's content (PaLM takes text only). */
function textOf(content: unknown, where: string): string {
  return contentText(content, where, (p) => `PaLM takes text only, not ${JSON.stringify(isObj(p) ? p.type : p)} parts`);
}

/** Sampling options both methods share: temperature, topP, topK, candidateCount (`n`, 1 to 8). */
function sampling(body: Json, out: Json): void {
  const temperature = num(body.temperature);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = num(body.top_p);
  if (topP !== undefined) out.topP = topP;
  const topK = num(body.top_k);
  if (topK !== undefined) out.topK = topK;
  if (body.n !== undefined && body.n !== null) {
    if (!Number.isInteger(body.n) || body.n < 1 || body.n > 8) throw invalid('PaLM answers 1 to 8 candidates: n must be an integer from 1 to 8', 'n');
    out.candidateCount = body.n;
  }
}

/** Options PaLM's methods have no place for: a 400 rather than an answer that ignored them. */
function refuse(body: Json, fields: string[]): void {
  for (const field of fields) {
    const v = body[field];
    if (v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0)) continue;
    if (field === 'response_format' && isObj(v) && v.type === 'text') continue;
    throw invalid(`PaLM's API has no place for ${field}`, field);
  }
}

/**
 * An OpenAI chat request → a generateMessage body: system (and developer) messages become the
 * prompt's `context`; user and assistant turns its `messages` (`author` `user` / `assistant`, two
 * turns of one author in a row joined, since PaLM's turns alternate); PaLM's own `examples` pass.
 */
export function toPalmMessage(body: Json): Json {
  refuse(body, ['tools', 'functions', 'response_format', 'logprobs']);
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages must be a non-empty array', 'messages');
  const context: string[] = [];
  const messages: Json[] = [];
  body.messages.forEach((m: unknown, i: number) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${where}: not a message`, where);
    const text = textOf(m.content, `${where}.content`);
    if (m.role === 'system' || m.role === 'developer') return void context.push(text);
    if (m.role !== 'user' && m.role !== 'assistant')
      throw invalid(`${where}: PaLM takes system, user and assistant messages, not ${JSON.stringify(m.role)}`, where);
    const last = messages[messages.length - 1];
    if (last && last.author === m.role) last.content += `\n\n${text}`;
    else messages.push({ author: m.role, content: text });
  });
  if (messages.length === 0) throw invalid('PaLM needs at least one user or assistant message', 'messages');
  const prompt: Json = {};
  if (context.length) prompt.context = context.join('\n\n');
  if (Array.isArray(body.examples)) prompt.examples = body.examples;
  prompt.messages = messages;
  const out: Json = { prompt };
  sampling(body, out);
  return out;
}

/** An OpenAI completions request → a generateText body (one prompt; `stop` up to 5 sequences). */
export function toPalmText(body: Json): Json {
  refuse(body, ['logprobs', 'echo', 'suffix', 'best_of']);
  let prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string') throw invalid('PaLM completes one text prompt: prompt must be a string', 'prompt');
  const out: Json = { prompt: { text: prompt } };
  sampling(body, out);
  const max = num(body.max_tokens);
  if (max !== undefined) out.maxOutputTokens = max;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : undefined;
  if (stop?.length) {
    if (stop.length > 5 || stop.some((s: unknown) => typeof s !== 'string')) throw invalid('PaLM takes at most 5 stop strings', 'stop');
    out.stopSequences = stop;
  }
  if (Array.isArray(body.safety_settings)) out.safetySettings = body.safety_settings;
  return out;
}

/** The texts of an OpenAI embeddings request (strings only: PaLM takes no token arrays). */
export function embeddingTexts(body: Json): string[] {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
  if (!texts?.length || texts.some((t) => typeof t !== 'string'))
    throw invalid('PaLM embeds text: input must be a string or an array of strings', 'input');
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
    throw invalid('encoding_format must be "float" or "base64"', 'encoding_format');
  }
  return texts;
}

export const buildMessage = (input: BuildInput): UpstreamRequest => post(input, 'generateMessage', toPalmMessage(input.body ?? {}));
export const buildText = (input: BuildInput): UpstreamRequest => post(input, 'generateText', toPalmText(input.body ?? {}));

/** One text → `:embedText {text}`; several → `:batchEmbedText {texts}` (v1beta3). */
export function buildEmbed(input: BuildInput): UpstreamRequest {
  const texts = embeddingTexts(input.body ?? {});
  return texts.length === 1 ? post(input, 'embedText', { text: texts[0] }) : post(input, 'batchEmbedText', { texts });
}
