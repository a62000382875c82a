import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { contentText } from '@waygate/provider-kit';
import { targetOption } from '@waygate/provider-openai';
import { isObj, num } from './json.js';
import type { Json } from './json.js';

/**
 * Requests to Workers AI's REST API: every model runs at `POST {base}/{model}`, the base being
 * `https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/run` (as Portkey builds it), the body
 * the model's own input (`messages`, `prompt` or `text`).
 */

/** The default base URL: a template whose `{workers_ai_account_id}` is filled from the target's option. */
export const BASE_URL_TEMPLATE = 'https://api.cloudflare.com/client/v4/accounts/{workers_ai_account_id}/ai/run';

export const ACCOUNT_KEY = 'workers_ai_account_id';
export const ACCOUNT_HEADER = 'workers-ai-account-id';
const ACCOUNT_ID = /^[a-fA-F0-9]{32}$/;
const ACCOUNT_WHAT = 'a Cloudflare account id (32 hex digits)';

export const invalid = (message: string, param?: string): GatewayError => badRequest(ErrorCode.INVALID_REQUEST, message, param);

const PLACEHOLDER = '{workers_ai_account_id}';

/**
 * The base URL of the target: the template filled with the account id (a missing or malformed one is a
 * 400 naming it). A custom host or the config file's `base_url` replaces the template; one that holds
 * `{workers_ai_account_id}` itself (a Cloudflare AI Gateway URL) is filled the same way. One that ends
 * with `/ai/v1` (the OpenAI-compatible base an earlier preset took) is read as `/ai/run`.
 */
export function baseOf(input: BuildInput): string {
  const base = (input.target.baseURL ?? '').replace(/\/+$/, '').replace(/\/ai\/v1$/, '/ai/run');
  if (!base.includes(PLACEHOLDER)) return base;
  const where = `${input.target.path}.${ACCOUNT_KEY}`;
  const id = targetOption(input, ACCOUNT_KEY, ACCOUNT_HEADER);
  if (id === undefined) {
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${where}: workers-ai needs ${ACCOUNT_KEY} (or the x-waygate-${ACCOUNT_HEADER} header), ${ACCOUNT_WHAT}, or a custom_host`,
      where,
    );
  }
  if (!ACCOUNT_ID.test(id)) throw badRequest(ErrorCode.INVALID_CONFIG, `${where}: workers-ai needs ${ACCOUNT_KEY} to be ${ACCOUNT_WHAT}`, where);
  return base.replaceAll(PLACEHOLDER, id);
}

/** A model name as Workers AI spells them (`@cf/meta/llama-3.1-8b-instruct`, `@hf/...`): path segments, never `.` or `..`. */
const MODEL = /^@?[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** `POST {base}/{model}`: the model goes into the path as it is (its `@` and slashes included). */
export function runUrl(input: BuildInput): string {
  const model = input.body?.model;
  if (typeof model !== 'string' || !MODEL.test(model) || model.length > 256) {
    throw invalid('workers-ai: `model` must name a Workers AI model, such as @cf/meta/llama-3.1-8b-instruct', 'model');
  }
  return `${baseOf(input)}/${model}`;
}

/** The headers of every call: the target's API token as a bearer token. */
export function headersFor(input: BuildInput): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
  return headers;
}

/** The text of a message's content: a string, or the text parts of an array (Workers AI's messages take a string). */
function textOf(content: unknown, where: string): string {
  return contentText(content, where, (part) => `workers-ai maps text parts only, not ${isObj(part) ? JSON.stringify(part.type) : 'a non-object'}`);
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** OpenAI messages → Workers AI's `{role, content}` messages (developer as system; tool results keep their call id). */
function toMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('workers-ai: `messages` must be a non-empty array', 'messages');
  return messages.map((m, i) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${where}: not a message`, where);
    const role = m.role === 'developer' ? 'system' : m.role;
    if (typeof role !== 'string' || !ROLES.has(role))
      throw invalid(`${where}: workers-ai does not map the role ${JSON.stringify(m.role)}`, `${where}.role`);
    const out: Json = { role, content: textOf(m.content, `${where}.content`) };
    if (role === 'tool' && typeof m.tool_call_id === 'string') out.tool_call_id = m.tool_call_id;
    if (role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length) out.tool_calls = m.tool_calls;
    return out;
  });
}

/** Sampling options both chat and prompt inputs take (OpenAI's names are Workers AI's), and Workers AI's own extras. */
function sampling(b: Json, out: Json): void {
  const max = num(b.max_completion_tokens) ?? num(b.max_tokens);
  if (max !== undefined) out.max_tokens = max;
  for (const key of ['temperature', 'top_p', 'seed', 'frequency_penalty', 'presence_penalty', 'top_k', 'repetition_penalty'] as const) {
    const v = num(b[key]);
    if (v !== undefined) out[key] = v;
  }
  if (typeof b.raw === 'boolean') out.raw = b.raw;
  if (typeof b.lora === 'string') out.lora = b.lora;
  if (b.stream === true) out.stream = true;
  if (num(b.n) !== undefined && b.n !== 1) throw invalid('workers-ai: only n = 1 is supported', 'n');
  if (b.stop !== undefined && b.stop !== null) throw invalid('workers-ai: `stop` is not an input of Workers AI models', 'stop');
}

/** An OpenAI chat completion request → the model's `messages` input. */
export function toWorkersChat(body: Json | undefined): Json {
  const b = body ?? {};
  const out: Json = { messages: toMessages(b.messages) };
  if (Array.isArray(b.tools) && b.tools.length) out.tools = b.tools;
  if (isObj(b.response_format) && b.response_format.type !== 'text') out.response_format = b.response_format;
  sampling(b, out);
  return out;
}

/** An OpenAI completions request → the model's `prompt` input (one prompt). */
export function toWorkersPrompt(body: Json | undefined): Json {
  const b = body ?? {};
  const prompt = Array.isArray(b.prompt) && b.prompt.length === 1 ? b.prompt[0] : b.prompt;
  if (typeof prompt !== 'string' || prompt === '') throw invalid('workers-ai: `prompt` must be one non-empty string', 'prompt');
  const out: Json = { prompt };
  sampling(b, out);
  return out;
}

/** An OpenAI embeddings request → the embedding model's `{text: [...]}` input. */
export function toWorkersEmbed(body: Json | undefined): Json {
  const b = body ?? {};
  const text = typeof b.input === 'string' ? [b.input] : Array.isArray(b.input) && b.input.every((x) => typeof x === 'string') ? b.input : undefined;
  if (!text || text.length === 0) throw invalid('workers-ai embeds text: `input` must be a string or an array of strings', 'input');
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && b.encoding_format !== 'base64') {
    throw invalid('encoding_format must be "float" or "base64"', 'encoding_format');
  }
  const out: Json = { text };
  if (b.pooling === 'mean' || b.pooling === 'cls') out.pooling = b.pooling;
  return out;
}

const post = (input: BuildInput, payload: Json): UpstreamRequest => {
  const headers = headersFor(input);
  if (payload.stream === true) headers.accept = 'text/event-stream';
  return { url: runUrl(input), method: 'POST', headers, body: JSON.stringify(payload) };
};

export const buildChat = (input: BuildInput): UpstreamRequest => post(input, toWorkersChat(input.body));
export const buildCompletion = (input: BuildInput): UpstreamRequest => post(input, toWorkersPrompt(input.body));
export const buildEmbeddings = (input: BuildInput): UpstreamRequest => post(input, toWorkersEmbed(input.body));
