import { ChunkWriter, ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { BuildInput, EndpointAdapter, ProviderAdapter, SSEEvent, StreamTransformer, UpstreamRequest, Usage } from '@waygate/core';
import { messages, messagesCountTokens } from './messages.js';

/**
 * Anthropic's Messages API behind Waygate's canonical (OpenAI chat.completions) format: requests are
 * translated to `POST /v1/messages`, answers and event streams back to OpenAI's shapes.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Anthropic's JSON is built and read by path both ways, and so are the tests' assertions
type Json = Record<string, any>;

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_MAX_TOKENS = 4096;
const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504, 529]);
const RETRYABLE_TYPES = new Set(['overloaded_error', 'rate_limit_error', 'api_error', 'timeout_error']);

/** Reads a provider option from the target's config node (snake_case), else from a request header in Waygate's or Portkey's name. */
export function targetOption(input: BuildInput, key: string, headerSuffix: string): string | undefined {
  const fromConfig = input.target.node[key];
  if (typeof fromConfig === 'string' && fromConfig) return fromConfig;
  if (typeof fromConfig === 'number') return String(fromConfig);
  const h = input.ctx.headers;
  const own = h[`x-waygate-${headerSuffix}`] ?? h[`x-portkey-${headerSuffix}`];
  return typeof own === 'string' && own ? own : undefined;
}

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

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
    else if (part.type === 'image' || part.type === 'document' || part.type === 'tool_result' || part.type === 'tool_use') out.push(part); // already Anthropic's
    else throw badRequest(ErrorCode.INVALID_REQUEST, `Content part type ${JSON.stringify(part.type)} is not supported by Anthropic`, p);
  });
  return out;
}

function parseArguments(args: unknown): unknown {
  if (isObj(args)) return args;
  if (typeof args !== 'string' || !args.trim()) return {};
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
  const fallback = typeof rawDefault === 'number' ? rawDefault : typeof rawDefault === 'string' && /^\d+$/.test(rawDefault) ? Number(rawDefault) : DEFAULT_MAX_TOKENS;
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

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** Anthropic's stop_reason as OpenAI's finish_reason. */
export function finishReason(stop: unknown): string | null {
  if (stop === null || stop === undefined) return null;
  return FINISH[String(stop)] ?? 'stop';
}

/** Anthropic usage → OpenAI usage: cached and cache-written input tokens count as prompt tokens. */
export function toOpenAIUsage(u: Json | undefined): Usage {
  const input = Number(u?.input_tokens ?? 0);
  const read = Number(u?.cache_read_input_tokens ?? 0);
  const created = Number(u?.cache_creation_input_tokens ?? 0);
  const output = Number(u?.output_tokens ?? 0);
  const prompt = input + read + created;
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { cached_tokens: read },
    cache_read_input_tokens: read,
    cache_creation_input_tokens: created,
  };
}

/** Translates an Anthropic Messages answer to an OpenAI chat.completion. */
export function toOpenAIResponse(msg: Json): Json {
  const blocks: Json[] = Array.isArray(msg.content) ? msg.content : [];
  let text = '';
  let sawText = false;
  let reasoning = '';
  const thinking: Json[] = [];
  const calls: Json[] = [];
  for (const b of blocks) {
    if (!isObj(b)) continue;
    if (b.type === 'text') {
      text += b.text ?? '';
      sawText = true;
    } else if (b.type === 'tool_use') {
      calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type === 'thinking') {
      reasoning += b.thinking ?? '';
      thinking.push(b);
    } else if (b.type === 'redacted_thinking') {
      thinking.push(b);
    }
  }
  const message: Json = { role: 'assistant', content: sawText ? text : null, refusal: null };
  if (calls.length) message.tool_calls = calls;
  if (thinking.length) {
    message.reasoning_content = reasoning;
    message.thinking_blocks = thinking;
  }
  return {
    id: msg.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: msg.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(msg.stop_reason) ?? 'stop' }],
    usage: toOpenAIUsage(msg.usage),
  };
}

/** An Anthropic error answer as a GatewayError: status and Anthropic's message kept; overload and rate limits retryable. */
export function mapAnthropicError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const err = isObj(body) && isObj(body.error) ? body.error : undefined;
  const type = typeof err?.type === 'string' ? err.type : undefined;
  const message =
    typeof err?.message === 'string' ? err.message : typeof body === 'string' && body ? body.slice(0, 1000) : `anthropic answered status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, message, {
    retryable: RETRYABLE_STATUS.has(status) || (type !== undefined && RETRYABLE_TYPES.has(type)),
    type,
    upstream: { status, body, headers },
  });
}

/** Anthropic's event stream → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class AnthropicStreamTransformer implements StreamTransformer {
  readonly #out = new ChunkWriter();
  readonly #includeUsage: boolean;
  #usage: Json = {};
  /** Anthropic content block index → OpenAI tool call index, for tool_use blocks. */
  readonly #tools = new Map<number, number>();
  readonly #thinking = new Map<number, { thinking: string; signature?: string; redacted?: string }>();
  #started = false;
  #done = false;

  constructor(includeUsage: boolean) {
    this.#includeUsage = includeUsage;
  }

  #chunk(delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish);
  }

  #end(): SSEEvent[] {
    this.#done = true;
    const out: SSEEvent[] = [];
    if (this.#includeUsage) out.push(this.#out.usage(toOpenAIUsage(this.#usage)));
    out.push(this.#out.done());
    return out;
  }

  transform(ev: SSEEvent): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !ev.data) return undefined;
    let d: Json;
    try {
      d = JSON.parse(ev.data);
    } catch {
      throw new Error(`anthropic sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    switch (d.type ?? ev.event) {
      case 'message_start': {
        const m: Json = isObj(d.message) ? d.message : {};
        this.#out.id = String(m.id ?? '');
        this.#out.model = String(m.model ?? '');
        if (isObj(m.usage)) this.#usage = { ...m.usage };
        this.#started = true;
        return this.#chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start': {
        const b: Json = isObj(d.content_block) ? d.content_block : {};
        const index = Number(d.index);
        if (b.type === 'text') return b.text ? this.#chunk({ content: b.text }) : undefined;
        if (b.type === 'tool_use') {
          const n = this.#tools.size;
          this.#tools.set(index, n);
          return this.#chunk({ tool_calls: [{ index: n, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] });
        }
        if (b.type === 'thinking') {
          this.#thinking.set(index, { thinking: b.thinking ?? '', signature: b.signature || undefined });
          return b.thinking ? this.#chunk({ reasoning_content: b.thinking }) : undefined;
        }
        if (b.type === 'redacted_thinking') this.#thinking.set(index, { thinking: '', redacted: b.data });
        return undefined;
      }
      case 'content_block_delta': {
        const delta: Json = isObj(d.delta) ? d.delta : {};
        const index = Number(d.index);
        if (delta.type === 'text_delta') return delta.text ? this.#chunk({ content: delta.text }) : undefined;
        if (delta.type === 'input_json_delta') {
          const n = this.#tools.get(index);
          if (n === undefined || !delta.partial_json) return undefined;
          return this.#chunk({ tool_calls: [{ index: n, function: { arguments: delta.partial_json } }] });
        }
        if (delta.type === 'thinking_delta') {
          const t = this.#thinking.get(index);
          if (t) t.thinking += delta.thinking ?? '';
          return delta.thinking ? this.#chunk({ reasoning_content: delta.thinking }) : undefined;
        }
        if (delta.type === 'signature_delta') {
          const t = this.#thinking.get(index);
          if (t) t.signature = (t.signature ?? '') + (delta.signature ?? '');
        }
        return undefined;
      }
      case 'content_block_stop': {
        // A finished thinking block is handed on whole (with its signature), so a client can send it back.
        const t = this.#thinking.get(Number(d.index));
        if (!t) return undefined;
        this.#thinking.delete(Number(d.index));
        const block = t.redacted !== undefined ? { type: 'redacted_thinking', data: t.redacted } : { type: 'thinking', thinking: t.thinking, signature: t.signature ?? '' };
        return this.#chunk({ thinking_blocks: [block] });
      }
      case 'message_delta': {
        if (isObj(d.usage)) {
          for (const k in d.usage) if (d.usage[k] !== null && d.usage[k] !== undefined) this.#usage[k] = d.usage[k];
        }
        const stop = isObj(d.delta) ? d.delta.stop_reason : undefined;
        return stop ? this.#chunk({}, finishReason(stop)) : undefined;
      }
      case 'message_stop':
        return this.#end();
      case 'error': {
        this.#done = true;
        const e: Json = isObj(d.error) ? d.error : {};
        return { data: JSON.stringify({ error: { message: String(e.message ?? 'anthropic stream error'), type: e.type ?? 'server_error', code: e.type ?? null, param: null } }) };
      }
      default:
        return undefined; // ping and event types added later
    }
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !this.#started) return undefined;
    this.#done = true;
    return {
      data: JSON.stringify({ error: { message: 'The stream from anthropic ended before message_stop', type: 'server_error', code: 'stream_interrupted', param: null } }),
    };
  }
}

function buildRequest(input: BuildInput): UpstreamRequest {
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

export const chatCompletions: EndpointAdapter = {
  build: buildRequest,
  mapResponse: (json) => (isObj(json) ? toOpenAIResponse(json) : json),
  createStreamTransformer: (input) => {
    const so = input.body?.stream_options;
    return new AnthropicStreamTransformer(isObj(so) && so.include_usage === true);
  },
  mapError: mapAnthropicError,
};

/** The Anthropic provider adapter. */
export const anthropic: ProviderAdapter = {
  id: 'anthropic',
  displayName: 'Anthropic',
  baseURL: 'https://api.anthropic.com/v1',
  endpoints: { 'chat.completions': chatCompletions, messages, 'messages.count_tokens': messagesCountTokens },
};
