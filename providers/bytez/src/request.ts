import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, GatewayError, UpstreamRequest } from '@waygate/core';
import { isObj, num } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/**
 * Requests to Bytez's model API: an OpenAI chat completion as `POST {base}/{modelId}` (base
 * `https://api.bytez.com/models/v2`), authorized by `Authorization: Key <key>`, its body
 * `{messages, stream, params}` with the generation options under `params`.
 */

export function invalid(message: string, param?: string): GatewayError {
  return badRequest(ErrorCode.INVALID_REQUEST, message, param);
}

/** Options Bytez's API has no place for: a 400 rather than an answer that silently ignored them. */
const REFUSED: Record<string, string> = {
  tools: 'tool calling',
  functions: 'function calling',
  response_format: 'structured output',
  logprobs: 'log probabilities',
  audio: 'audio output',
};

/**
 * The model id as path segments under the base URL (`Qwen/Qwen3-4B` → `Qwen/Qwen3-4B`), each segment
 * percent-encoded; an empty, `.` or `..` segment is a 400 (it would name another path of the API).
 */
export function modelPath(model: unknown): string {
  if (typeof model !== 'string' || model.trim() === '') throw invalid('model is required: the Bytez model id, e.g. "Qwen/Qwen3-4B"', 'model');
  const segments = model.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw invalid(`model ${JSON.stringify(model)} is not a Bytez model id`, 'model');
  return segments.map(encodeURIComponent).join('/');
}

/** An `image_url` part's URL as Bytez's `url` (a web address) or `base64` (a data URI's payload). */
function media(type: 'image' | 'audio', url: string): Json {
  const data = /^data:[^,]*;base64,(.*)$/s.exec(url);
  return data ? { type, base64: data[1] } : { type, url };
}

/** OpenAI message content (a string or parts) → Bytez content blocks (`text`, `image`, `audio`). */
function toContent(content: unknown, where: string): Json[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${where}: content must be a string or an array of parts`, where);
  return content.map((part, i) => {
    const at = `${where}[${i}]`;
    if (!isObj(part)) throw invalid(`${at}: not a content part`, at);
    switch (part.type) {
      case 'text':
        if (typeof part.text !== 'string') throw invalid(`${at}: a text part needs text`, at);
        return { type: 'text', text: part.text };
      case 'image_url': {
        const url = typeof part.image_url === 'string' ? part.image_url : isObj(part.image_url) ? part.image_url.url : undefined;
        if (typeof url !== 'string' || !url) throw invalid(`${at}: image_url needs a url`, at);
        return media('image', url);
      }
      case 'input_audio': {
        const data = isObj(part.input_audio) ? part.input_audio.data : undefined;
        if (typeof data !== 'string' || !data) throw invalid(`${at}: input_audio needs data`, at);
        return { type: 'audio', base64: data };
      }
      default:
        throw invalid(`${at}: Bytez does not accept content parts of type ${JSON.stringify(part.type)}`, at);
    }
  });
}

function toMessage(m: unknown, i: number): Json {
  const where = `messages[${i}]`;
  if (!isObj(m)) throw invalid(`${where}: not a message`, where);
  const role = m.role === 'developer' ? 'system' : m.role;
  if (role !== 'system' && role !== 'user' && role !== 'assistant') {
    throw invalid(`${where}: Bytez takes system, user and assistant messages, not ${JSON.stringify(m.role)}`, where);
  }
  if (role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length) {
    throw invalid(`${where}: Bytez's API has no tool calling (an assistant message with tool_calls)`, where);
  }
  return { role, content: toContent(m.content, `${where}.content`) };
}

/** The canonical (OpenAI) chat request → Bytez's run-model body. */
export function toBytezChat(body: Json): Json {
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages must be a non-empty array', 'messages');
  for (const [field, what] of Object.entries(REFUSED)) {
    const v = body[field];
    if (v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0)) continue;
    if (field === 'response_format' && isObj(v) && v.type === 'text') continue;
    throw invalid(`Bytez's models/v2 API has no ${what} (${field})`, field);
  }
  const n = body.n;
  if (n !== undefined && n !== null && n !== 1) throw invalid('Bytez answers one choice: n must be 1', 'n');

  const params: Json = {};
  const maxTokens = num(body.max_completion_tokens) ?? num(body.max_tokens);
  if (maxTokens !== undefined) params.max_new_tokens = maxTokens;
  for (const field of ['temperature', 'top_p'] as const) {
    const v = num(body[field]);
    if (v !== undefined) params[field] = v;
  }
  return { messages: body.messages.map(toMessage), stream: body.stream === true, params };
}

/** The upstream request for a chat completion. */
export function buildChat(input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  const path = modelPath(body.model);
  const out = toBytezChat(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: out.stream ? 'text/plain, application/json' : 'application/json' };
  if (input.target.apiKey) headers['authorization'] = `Key ${input.target.apiKey}`;
  return { url: `${input.target.baseURL}/${path}`, method: 'POST', headers, body: JSON.stringify(out) };
}
