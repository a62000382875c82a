import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { isObj, num, parseArguments } from './json.js';
import type { Json } from './json.js';

/**
 * Requests to Ollama's native API (`/api/chat`, `/api/generate`, `/api/embed`, `/api/tags`) on the
 * server the target's custom host names. Ollama streams unless told not to, so `stream` is always sent.
 */

export const invalid = (message: string, param?: string): GatewayError => badRequest(ErrorCode.INVALID_REQUEST, message, param);

/**
 * The server's root: the custom host without trailing slashes, and without a trailing `/v1` (the
 * OpenAI-compatible prefix an earlier config pointed at) or `/api`, so `http://localhost:11434`,
 * `http://localhost:11434/v1` and `http://localhost:11434/api` all reach `/api/...`.
 */
export function rootOf(input: BuildInput): string {
  return (input.target.baseURL ?? '').replace(/\/+$/, '').replace(/\/(?:v1|api)$/, '');
}

/** The headers of every call: JSON, and the target's key as a bearer token when there is one (for an Ollama behind an authenticating proxy). */
export function headersFor(input: BuildInput): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
  return headers;
}

function modelOf(b: Json): string {
  if (typeof b.model !== 'string' || !b.model) throw invalid('ollama: `model` must name a model (e.g. llama3.2 or qwen2.5:7b)', 'model');
  return b.model;
}

/** An image part's data URI → the base64 Ollama's `images` take; Ollama fetches no URLs. */
function imageOf(part: Json, where: string): string {
  const url = isObj(part.image_url) ? part.image_url.url : part.image_url;
  const m = typeof url === 'string' ? /^data:image\/[a-z0-9.+-]+;base64,(.+)$/i.exec(url) : null;
  if (!m) throw invalid(`${where}: ollama takes images as base64 data URIs (data:image/...;base64,...), not URLs`, where);
  return m[1]!;
}

/** A message's content → its text, and the images of its image parts. */
function contentOf(content: unknown, where: string): { text: string; images: string[] } {
  if (content === null || content === undefined) return { text: '', images: [] };
  if (typeof content === 'string') return { text: content, images: [] };
  if (!Array.isArray(content)) throw invalid(`${where}: content must be a string or an array of parts`, where);
  const texts: string[] = [];
  const images: string[] = [];
  content.forEach((part, j) => {
    const at = `${where}[${j}]`;
    if (isObj(part) && part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
    else if (isObj(part) && part.type === 'image_url') images.push(imageOf(part, at));
    else throw invalid(`${at}: ollama maps text and image parts only, not ${isObj(part) ? JSON.stringify(part.type) : 'a non-object'}`, at);
  });
  return { text: texts.join(''), images };
}

/**
 * OpenAI messages → Ollama's: `developer` as `system`; images as `images`; an assistant's tool calls
 * with their arguments as objects; a tool result with `tool_name`, the name of the call it answers
 * (found by its `tool_call_id` among the assistant's calls before it).
 */
export function toOllamaMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('ollama: `messages` must be a non-empty array', 'messages');
  const names = new Map<string, string>();
  return messages.map((m, i) => {
    const where = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${where}: not a message`, where);
    const role = m.role === 'developer' ? 'system' : m.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
      throw invalid(`${where}: ollama does not map the role ${JSON.stringify(m.role)}`, `${where}.role`);
    }
    const { text, images } = contentOf(m.content, `${where}.content`);
    const out: Json = { role, content: text };
    if (images.length) out.images = images;
    if (role === 'assistant' && typeof m.reasoning_content === 'string' && m.reasoning_content) out.thinking = m.reasoning_content;
    if (role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length) {
      out.tool_calls = m.tool_calls.map((c: unknown, j: number) => {
        const fn = isObj(c) && isObj(c.function) ? c.function : undefined;
        if (!fn || typeof fn.name !== 'string') throw invalid(`${where}.tool_calls[${j}]: a function tool call with a name`, `${where}.tool_calls[${j}]`);
        if (isObj(c) && typeof c.id === 'string') names.set(c.id, fn.name);
        return { function: { name: fn.name, arguments: parseArguments(fn.arguments) } };
      });
    }
    if (role === 'tool') {
      const name = (typeof m.tool_call_id === 'string' ? names.get(m.tool_call_id) : undefined) ?? (typeof m.name === 'string' ? m.name : undefined);
      if (name) out.tool_name = name;
    }
    return out;
  });
}

/** OpenAI's sampling fields → Ollama's `options` (Modelfile parameter names); the body's own `options` win. */
export function optionsOf(b: Json): Json | undefined {
  const o: Json = {};
  const max = num(b.max_completion_tokens) ?? num(b.max_tokens);
  if (max !== undefined) o.num_predict = max;
  for (const key of ['temperature', 'top_p', 'top_k', 'seed', 'frequency_penalty', 'presence_penalty', 'repeat_penalty', 'min_p'] as const) {
    const v = num(b[key]);
    if (v !== undefined) o[key] = v;
  }
  if (typeof b.stop === 'string') o.stop = [b.stop];
  else if (Array.isArray(b.stop) && b.stop.every((s) => typeof s === 'string')) o.stop = b.stop;
  else if (b.stop !== undefined && b.stop !== null) throw invalid('ollama: `stop` must be a string or an array of strings', 'stop');
  if (b.options !== undefined) {
    if (!isObj(b.options)) throw invalid("ollama: `options` must be an object of Ollama's model parameters", 'options');
    Object.assign(o, b.options);
  }
  return Object.keys(o).length ? o : undefined;
}

/** `response_format` → Ollama's `format` (`"json"`, or the JSON schema); Ollama's own `format` is taken as it is. */
function formatOf(b: Json): unknown {
  if (b.format !== undefined) return b.format;
  const rf = b.response_format;
  if (!isObj(rf) || rf.type === 'text') return undefined;
  if (rf.type === 'json_object') return 'json';
  if (rf.type === 'json_schema' && isObj(rf.json_schema) && isObj(rf.json_schema.schema)) return rf.json_schema.schema;
  throw invalid('ollama: response_format must be text, json_object or json_schema with a schema', 'response_format');
}

/** The fields chat and generate share: format, options, keep_alive, think, and an explicit stream. */
function common(b: Json, out: Json): Json {
  if (num(b.n) !== undefined && b.n !== 1) throw invalid('ollama: only n = 1 is supported', 'n');
  const format = formatOf(b);
  if (format !== undefined) out.format = format;
  const options = optionsOf(b);
  if (options) out.options = options;
  if (typeof b.keep_alive === 'string' || typeof b.keep_alive === 'number') out.keep_alive = b.keep_alive;
  if (typeof b.think === 'boolean' || typeof b.think === 'string') out.think = b.think;
  out.stream = b.stream === true;
  return out;
}

/** An OpenAI chat completion request → `POST /api/chat`'s body. */
export function toOllamaChat(body: Json | undefined): Json {
  const b = body ?? {};
  const out: Json = { model: modelOf(b), messages: toOllamaMessages(b.messages) };
  const choice = b.tool_choice;
  if (Array.isArray(b.tools) && b.tools.length && choice !== 'none') {
    if (choice !== undefined && choice !== 'auto')
      throw invalid('ollama: a tool_choice other than auto or none cannot be honoured (Ollama has no way to force a tool)', 'tool_choice');
    out.tools = b.tools;
  }
  return common(b, out);
}

/** An OpenAI completions request → `POST /api/generate`'s body (one prompt; `suffix`, `system` and `raw` kept). */
export function toOllamaGenerate(body: Json | undefined): Json {
  const b = body ?? {};
  const prompt = Array.isArray(b.prompt) && b.prompt.length === 1 ? b.prompt[0] : b.prompt;
  if (typeof prompt !== 'string') throw invalid('ollama: `prompt` must be one string', 'prompt');
  const out: Json = { model: modelOf(b), prompt };
  if (typeof b.suffix === 'string') out.suffix = b.suffix;
  if (typeof b.system === 'string') out.system = b.system;
  if (typeof b.raw === 'boolean') out.raw = b.raw;
  return common(b, out);
}

/** An OpenAI embeddings request → `POST /api/embed`'s body. */
export function toOllamaEmbed(body: Json | undefined): Json {
  const b = body ?? {};
  const input = b.input;
  if (!(typeof input === 'string' || (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')))) {
    throw invalid('ollama embeds text: `input` must be a string or an array of strings', 'input');
  }
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && b.encoding_format !== 'base64') {
    throw invalid('encoding_format must be "float" or "base64"', 'encoding_format');
  }
  const out: Json = { model: modelOf(b), input };
  if (typeof b.dimensions === 'number') out.dimensions = b.dimensions;
  if (typeof b.truncate === 'boolean') out.truncate = b.truncate;
  if (typeof b.keep_alive === 'string' || typeof b.keep_alive === 'number') out.keep_alive = b.keep_alive;
  if (isObj(b.options)) out.options = b.options;
  return out;
}

const post = (input: BuildInput, path: string, payload: Json): UpstreamRequest => {
  const headers = headersFor(input);
  headers.accept = payload.stream === true ? 'application/x-ndjson' : 'application/json';
  return { url: `${rootOf(input)}${path}`, method: 'POST', headers, body: JSON.stringify(payload) };
};

export const buildChat = (input: BuildInput): UpstreamRequest => post(input, '/api/chat', toOllamaChat(input.body));
export const buildGenerate = (input: BuildInput): UpstreamRequest => post(input, '/api/generate', toOllamaGenerate(input.body));
export const buildEmbed = (input: BuildInput): UpstreamRequest => post(input, '/api/embed', toOllamaEmbed(input.body));
export const buildTags = (input: BuildInput): UpstreamRequest => {
  const headers = headersFor(input);
  delete headers['content-type'];
  headers.accept = 'application/json';
  return { url: `${rootOf(input)}/api/tags`, method: 'GET', headers };
};
