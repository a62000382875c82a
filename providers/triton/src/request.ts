import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { contentText } from '@waygate/provider-kit';
import { targetOption } from '@waygate/provider-openai';
import { isObj, num } from './json.js';
import type { Json } from './json.js';

/**
 * Requests to Triton's generate extension: `POST {host}/v2/models/{model}[/versions/{v}]/generate`
 * (one JSON answer) or `/generate_stream` (server-sent events), the body `{text_input, parameters}`.
 */

export const invalid = (message: string, param?: string): GatewayError => badRequest(ErrorCode.INVALID_REQUEST, message, param);

/** A Triton model name (letters, digits, `_`, `-`, `.`; never `.` or `..`), optionally `/versions/<n>`. */
const MODEL = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:\/versions\/[0-9]{1,9})?$/;
/** A custom host that already names the model, as Portkey's do (it appends `/generate` to the host). */
const MODEL_URL = /\/v2\/models\/[^/]+(?:\/versions\/[0-9]+)?$/;

/**
 * The model's URL: a custom host that ends with `/v2/models/<name>[/versions/<n>]` (Portkey's form) is
 * used as it is; any other is the server's root, and the request's `model` names the model. A trailing
 * `/generate` or `/generate_stream` is dropped.
 */
export function modelUrl(input: BuildInput): string {
  const base = (input.target.baseURL ?? '').replace(/\/+$/, '').replace(/\/generate(?:_stream)?$/, '');
  if (MODEL_URL.test(base)) return base;
  const model = input.body?.model;
  if (typeof model !== 'string' || !MODEL.test(model) || /^\.\.?(?:\/|$)/.test(model)) {
    throw invalid('triton: `model` must name a model of the server (e.g. ensemble, or ensemble/versions/1)', 'model');
  }
  return `${base}/v2/models/${model}`;
}

/** The headers of every call: JSON, and the target's key as a bearer token when there is one (a Triton behind an authenticating proxy). */
export function headersFor(input: BuildInput, stream: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
  if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
  return headers;
}

function textOf(content: unknown, where: string): string {
  return contentText(content, where, (part) => `triton maps text parts only, not ${isObj(part) ? JSON.stringify(part.type) : 'a non-object'}`);
}

const SPEAKERS: Record<string, string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant' };

/**
 * OpenAI messages flattened to one prompt, as Portkey's `triton` does: each message a line
 * `System: …`, `User: …` or `Assistant: …` (developer as System), joined by newlines; unless the last
 * message is the assistant's (a prefix to continue), a last line `Assistant:` asks for the answer.
 * Tool calls and tool results are not mapped (the generate extension takes text).
 */
export function flattenMessages(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('triton: `messages` must be a non-empty array', 'messages');
  const lines = messages.map((m, i) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${where}: not a message`, where);
    const speaker = typeof m.role === 'string' ? SPEAKERS[m.role] : undefined;
    if (!speaker) throw invalid(`${where}: triton does not map the role ${JSON.stringify(m.role)} (tool calls are not mapped)`, `${where}.role`);
    if (Array.isArray(m.tool_calls) && m.tool_calls.length) throw invalid(`${where}: triton does not map tool calls`, `${where}.tool_calls`);
    return `${speaker}: ${textOf(m.content, `${where}.content`)}`;
  });
  const last = messages[messages.length - 1] as Json;
  return last.role === 'assistant' ? lines.join('\n') : `${lines.join('\n')}\nAssistant:`;
}

/** Where the sampling fields go: `parameters` (the generate extension's, vLLM's backend) or top-level inputs (TensorRT-LLM's ensemble, as Portkey sends them). */
export type RequestFormat = 'parameters' | 'inputs';

export function requestFormat(input: BuildInput): RequestFormat {
  const v = targetOption(input, 'triton_request_format', 'triton-request-format');
  if (v === undefined || v === 'parameters') return 'parameters';
  if (v === 'inputs') return 'inputs';
  const where = `${input.target.path}.triton_request_format`;
  throw badRequest(ErrorCode.INVALID_CONFIG, `${where}: must be "parameters" or "inputs"`, where);
}

/** OpenAI's sampling fields → Triton's names (`stop` → `stop_words`); the body's own `parameters` win. */
export function parametersOf(b: Json, stream: boolean): Json {
  const p: Json = {};
  const max = num(b.max_completion_tokens) ?? num(b.max_tokens);
  if (max !== undefined) p.max_tokens = max;
  for (const key of ['temperature', 'top_p', 'top_k', 'seed', 'frequency_penalty', 'presence_penalty', 'repetition_penalty'] as const) {
    const v = num(b[key]);
    if (v !== undefined) p[key] = v;
  }
  if (typeof b.stop === 'string') p.stop_words = [b.stop];
  else if (Array.isArray(b.stop) && b.stop.every((s) => typeof s === 'string')) p.stop_words = b.stop;
  else if (b.stop !== undefined && b.stop !== null) throw invalid('triton: `stop` must be a string or an array of strings', 'stop');
  if (num(b.n) !== undefined && b.n !== 1) throw invalid('triton: only n = 1 is supported', 'n');
  p.stream = stream;
  if (b.parameters !== undefined) {
    if (!isObj(b.parameters)) throw invalid("triton: `parameters` must be an object of the model's parameters", 'parameters');
    Object.assign(p, b.parameters);
  }
  return p;
}

/** The generate request for a prompt: `{text_input, parameters}`, or the same fields top-level for format `inputs`. */
function generate(input: BuildInput, textInput: string): UpstreamRequest {
  const b = input.body ?? {};
  const stream = b.stream === true;
  const params = parametersOf(b, stream);
  const payload: Json = requestFormat(input) === 'inputs' ? { text_input: textInput, ...params } : { text_input: textInput, parameters: params };
  return {
    url: `${modelUrl(input)}/${stream ? 'generate_stream' : 'generate'}`,
    method: 'POST',
    headers: headersFor(input, stream),
    body: JSON.stringify(payload),
  };
}

export function buildChat(input: BuildInput): UpstreamRequest {
  const b = input.body ?? {};
  if (Array.isArray(b.tools) && b.tools.length) throw invalid('triton: tools are not mapped (the generate extension takes text)', 'tools');
  return generate(input, flattenMessages(b.messages));
}

export function buildCompletion(input: BuildInput): UpstreamRequest {
  const b = input.body ?? {};
  const prompt = Array.isArray(b.prompt) && b.prompt.length === 1 ? b.prompt[0] : b.prompt;
  if (typeof prompt !== 'string') throw invalid('triton: `prompt` must be one string', 'prompt');
  return generate(input, prompt);
}

/** The model repository's index (`POST {host}/v2/repository/index`), for the model list. */
export function buildIndex(input: BuildInput): UpstreamRequest {
  const root = (input.target.baseURL ?? '').replace(/\/+$/, '').replace(/\/v2\/models\/.*$/, '');
  return { url: `${root}/v2/repository/index`, method: 'POST', headers: headersFor(input, false), body: JSON.stringify({ ready: true }) };
}
