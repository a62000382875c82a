import { ErrorCode, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { argumentsTooDeep, nestedDeeper } from '@waygate/provider-kit';
import { isObj } from './json.js';
import type { Json } from './json.js';

/**
 * Requests to Anthropic: an OpenAI chat.completions body translated to a Messages API body, sent as
 * `POST /v1/messages` with the key as `x-api-key` and the `anthropic-version` (and `-beta`) headers.
 */

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_MAX_TOKENS = 4096;

/** Reads a provider option from the target's config node (snake_case), else from a request header in Waygate's or Portkey's name. */
export function targetOption(input: BuildInput, key: string, headerSuffix: string): string | undefined {
  const fromConfig = input.target.node[key];
  if (typeof fromConfig === 'string' && fromConfig) return fromConfig;
  if (typeof fromConfig === 'number') return String(fromConfig);
  const h = input.ctx.headers;
  const own = h[`x-waygate-${headerSuffix}`] ?? h[`x-portkey-${headerSuffix}`];
  return typeof own === 'string' && own ? own : undefined;
}

/** An OpenAI `image_url` part as an Anthropic image block: data URLs become base64 sources, others URL sources. */
function imageBlock(part: Json, param: string): Json {
  const url: unknown = isObj(part.image_url) ? part.image_url.url : part.image_url;
  if (typeof url !== 'string' || !url) throw badRequest(ErrorCode.INVALID_REQUEST, 'image_url.url must be a non-empty string', param);
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { type: 'image', source: { type: 'base64', media_type: m[1], data: m[2] } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw badRequest(ErrorCode.INVALID_REQUEST, 'image_url.url must be a data: URL (base64) or an http(s) URL for Anthropic', param);
}

/** OpenAI content parts → Anthropic content blocks. */
function contentBlocks(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  content.forEach((part, i) => {
    if (!isObj(part)) return;
    const p = `${param}[${i}]`;
    const extra = part.cache_control ? { cache_control: part.cache_control } : {};
    if (part.type === 'text') out.push({ type: 'text', text: String(part.text ?? ''), ...extra });
    else if (part.type === 'image_url') out.push({ ...imageBlock(part, p), ...extra });
    else if (part.type === 'image' || part.type === 'document' || part.type === 'tool_result' || part.type === 'tool_use')
      out.push(part); // already Anthropic's
    else throw badRequest(ErrorCode.INVALID_REQUEST, `Content part type ${JSON.stringify(part.type)} is not supported by Anthropic`, p);
  });
  return out;
}

function parseArguments(args: unknown): unknown {
  if (isObj(args)) return args;
  if (typeof args !== 'string' || !args.trim()) return {};
  if (nestedDeeper(args)) throw argumentsTooDeep();
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

/** Translates an OpenAI chat.completions request body to an Anthropic Messages request body. */
export function toAnthropicRequest(body: Json, input?: BuildInput): Json {
  const system: Json[] = [];
  const messages: Json[] = [];
  const msgs: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  let lastToolTurn: Json | undefined;
  msgs.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const param = `messages[${i}].content`;
    const role = raw.role;
    if (role === 'system' || role === 'developer') {
      if (typeof raw.content === 'string') system.push({ type: 'text', text: raw.content });
      else system.push(...contentBlocks(raw.content, param).filter((b) => b.type === 'text'));
      return;
    }
    if (role === 'tool' || role === 'function') {
      const content = typeof raw.content === 'string' ? raw.content : contentBlocks(raw.content, param);
      const result: Json = { type: 'tool_result', tool_use_id: String(raw.tool_call_id ?? raw.name ?? ''), content };
      if (lastToolTurn) lastToolTurn.content.push(result);
      else messages.push((lastToolTurn = { role: 'user', content: [result] }));
      return;
    }
    lastToolTurn = undefined;
    if (role === 'assistant') {
      const blocks: Json[] = [];
      if (Array.isArray(raw.thinking_blocks)) blocks.push(...raw.thinking_blocks.filter(isObj));
      blocks.push(...contentBlocks(raw.content, param));
      if (Array.isArray(raw.tool_calls)) {
        for (const call of raw.tool_calls) {
          if (!isObj(call)) continue;
          const fn = isObj(call.function) ? call.function : {};
          blocks.push({ type: 'tool_use', id: String(call.id ?? ''), name: String(fn.name ?? ''), input: parseArguments(fn.arguments) });
        }
      }
      if (blocks.length) messages.push({ role: 'assistant', content: blocks });
      return;
    }
    // user (and anything else): plain strings stay strings.
    messages.push({ role: 'user', content: typeof raw.content === 'string' ? raw.content : contentBlocks(raw.content, param) });
  });

  const node = input?.target.node ?? {};
  const rawDefault = node.max_tokens_default;
  const fallback =
    typeof rawDefault === 'number' ? rawDefault : typeof rawDefault === 'string' && /^\d+$/.test(rawDefault) ? Number(rawDefault) : DEFAULT_MAX_TOKENS;
  const out: Json = {
    model: body.model,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? fallback,
    messages,
  };

  // response_format: Anthropic has no native switch; the format is asked for in the system prompt.
  const rf = body.response_format;
  if (isObj(rf) && rf.type === 'json_schema' && isObj(rf.json_schema)) {
    const schema = JSON.stringify(rf.json_schema.schema ?? {});
    system.push({ type: 'text', text: `Respond only with a JSON value that conforms to this JSON schema, with no other text:\n${schema}` });
  } else if (isObj(rf) && rf.type === 'json_object') {
    system.push({ type: 'text', text: 'Respond only with a valid JSON object, with no other text.' });
  }
  if (system.length) out.system = system.every((b) => !b.cache_control) ? system.map((b) => b.text).join('\n\n') : system;

  if (body.stop !== undefined && body.stop !== null) out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  for (const k of ['temperature', 'top_p', 'top_k', 'thinking', 'metadata', 'service_tier'] as const) {
    if (body[k] !== undefined && body[k] !== null) out[k] = body[k];
  }
  if (typeof body.user === 'string' && !out.metadata) out.metadata = { user_id: body.user };
  if (body.stream === true) out.stream = true;

  // Tools: OpenAI's function tools (and the legacy `functions`) → Anthropic tools with input_schema.
  const tools: Json[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (!isObj(t)) continue;
    if (t.type === 'function' && isObj(t.function)) {
      const f = t.function;
      const tool: Json = { name: f.name, input_schema: f.parameters ?? { type: 'object', properties: {} } };
      if (f.description) tool.description = f.description;
      if (t.cache_control) tool.cache_control = t.cache_control;
      tools.push(tool);
    } else if (typeof t.type === 'string' && t.type !== 'function') tools.push(t); // an Anthropic tool (server tools) as given
  }
  for (const f of Array.isArray(body.functions) ? body.functions : []) {
    if (isObj(f)) tools.push({ name: f.name, description: f.description, input_schema: f.parameters ?? { type: 'object', properties: {} } });
  }
  if (tools.length) out.tools = tools;

  let choice: Json | undefined;
  const tc = body.tool_choice ?? body.function_call;
  if (tc === 'auto') choice = { type: 'auto' };
  else if (tc === 'none') choice = { type: 'none' };
  else if (tc === 'required' || tc === 'any') choice = { type: 'any' };
  else if (isObj(tc)) {
    const name = isObj(tc.function) ? tc.function.name : tc.name;
    if (typeof name === 'string') choice = { type: 'tool', name };
    else if (typeof tc.type === 'string') choice = { ...tc };
  }
  if (body.parallel_tool_calls === false && tools.length) {
    choice ??= { type: 'auto' };
    if (choice.type !== 'none') choice.disable_parallel_tool_use = true;
  }
  if (choice && (tools.length || choice.type === 'none')) out.tool_choice = choice;
  return out;
}

/** The upstream request for a chat completion. */
export function buildRequest(input: BuildInput): UpstreamRequest {
  const { target } = input;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': targetOption(input, 'anthropic_version', 'anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION,
  };
  if (target.apiKey) headers['x-api-key'] = target.apiKey;
  const beta = targetOption(input, 'anthropic_beta', 'anthropic-beta');
  if (beta) headers['anthropic-beta'] = beta;
  return {
    url: `${target.baseURL}/messages`,
    method: 'POST',
    headers,
    body: JSON.stringify(toAnthropicRequest(input.body ?? {}, input)),
  };
}
