import { ChunkWriter, ErrorCode, GatewayError, badRequest, base64Embedding } from '@waygate/core';
import type { BuildInput, EndpointAdapter, ProviderAdapter, SSEEvent, StreamTransformer, UpstreamRequest, Usage } from '@waygate/core';
import { decodeEventStream } from './eventstream.js';
import { signV4 } from './sigv4.js';

/**
 * Amazon Bedrock Runtime behind Waygate's canonical (OpenAI) format: chat completions through the
 * Converse API (`POST /model/{modelId}/converse` and `/converse-stream`), embeddings through
 * `InvokeModel` (Titan text embeddings). Requests are signed with SigV4 (or sent with a Bedrock API
 * key as a Bearer token); streams arrive in AWS's binary event-stream framing.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Converse JSON is built and read by path both ways, and so are the tests' assertions
type Json = Record<string, any>;

/** The nominal base URL; the real host is `bedrock-runtime.{region}.amazonaws.com` for the target's region. */
export const DEFAULT_BASE_URL = 'https://bedrock-runtime.us-east-1.amazonaws.com';
export const DEFAULT_REGION = 'us-east-1';
export const SERVICE = 'bedrock';
const REGION_RE = /^[a-z0-9-]{1,32}$/;

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_TYPES = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelNotReadyException',
  'ModelTimeoutException',
]);

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Reads a provider option from the target's config node (snake_case), else from `x-waygate-…` / `x-portkey-…` headers. */
export function targetOption(input: BuildInput, key: string, headerSuffix: string): string | undefined {
  const fromConfig = input.target.node[key];
  if (typeof fromConfig === 'string' && fromConfig) return fromConfig;
  const h = input.ctx.headers;
  const own = h[`x-waygate-${headerSuffix}`] ?? h[`x-portkey-${headerSuffix}`];
  return typeof own === 'string' && own ? own : undefined;
}

export interface BedrockAuth {
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** A Bedrock API key (sent as `Authorization: Bearer`), used when no access key pair is given. */
  apiKey?: string;
}

/** The target's region and credentials, from config keys or headers. */
export function resolveAuth(input: BuildInput): BedrockAuth {
  const region = targetOption(input, 'aws_region', 'aws-region') ?? DEFAULT_REGION;
  if (!REGION_RE.test(region)) throw badRequest(ErrorCode.INVALID_CONFIG, `aws_region must match [a-z0-9-]+ (got ${JSON.stringify(region.slice(0, 40))})`, 'aws_region');
  const accessKeyId = targetOption(input, 'aws_access_key_id', 'aws-access-key-id');
  const secretAccessKey = targetOption(input, 'aws_secret_access_key', 'aws-secret-access-key');
  const sessionToken = targetOption(input, 'aws_session_token', 'aws-session-token');
  if (accessKeyId && secretAccessKey) return { region, accessKeyId, secretAccessKey, sessionToken };
  if (accessKeyId || secretAccessKey) {
    throw new GatewayError(ErrorCode.MISSING_CREDENTIALS, 400, 'bedrock needs both aws_access_key_id and aws_secret_access_key', { param: 'aws_secret_access_key' });
  }
  if (input.target.apiKey) return { region, apiKey: input.target.apiKey };
  throw new GatewayError(
    ErrorCode.MISSING_CREDENTIALS,
    401,
    'bedrock needs AWS credentials: aws_access_key_id and aws_secret_access_key (config or x-portkey-aws-* headers), or a Bedrock API key',
    { type: 'authentication_error' },
  );
}

/** The base URL for a target: its custom host if it has one, else the region's Bedrock Runtime host. */
export function baseURLFor(input: BuildInput, region: string): string {
  const b = input.target.baseURL;
  if (b && b !== DEFAULT_BASE_URL) return b.replace(/\/+$/, '');
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}

/** A signed (or Bearer-authorised) POST of a JSON body. */
export function signedPost(input: BuildInput, path: string, payload: Json, accept = 'application/json'): UpstreamRequest {
  const auth = resolveAuth(input);
  const url = `${baseURLFor(input, auth.region)}${path}`;
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  if (!auth.accessKeyId) {
    headers.authorization = `Bearer ${auth.apiKey}`;
    return { url, method: 'POST', headers, body };
  }
  const signed = signV4({
    method: 'POST',
    url,
    headers,
    body,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey!, sessionToken: auth.sessionToken },
    region: auth.region,
    service: SERVICE,
    date: input.ctx.startedAt ?? Date.now(),
  });
  return { url, method: 'POST', headers: signed.headers, body };
}

function modelOf(input: BuildInput): string {
  const m = input.body?.model;
  if (typeof m !== 'string' || !m) throw badRequest(ErrorCode.INVALID_REQUEST, 'model is required (a Bedrock model id, inference profile id or ARN)', 'model');
  return m;
}

// ---------------------------------------------------------------- request mapping

const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

function contentBlocks(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  content.forEach((part, i) => {
    if (!isObj(part)) return;
    const p = `${param}[${i}]`;
    if (part.type === 'text') {
      if (part.text) out.push({ text: String(part.text) });
    } else if (part.type === 'image_url') {
      const url: unknown = isObj(part.image_url) ? part.image_url.url : part.image_url;
      const m = typeof url === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(url) : null;
      const format = m ? IMAGE_FORMATS[m[1]!.toLowerCase()] : undefined;
      if (!m || !format) throw badRequest(ErrorCode.INVALID_REQUEST, 'Bedrock takes images as base64 data: URLs (png, jpeg, gif, webp)', p);
      out.push({ image: { format, source: { bytes: m[2] } } });
    } else throw badRequest(ErrorCode.INVALID_REQUEST, `Content part type ${JSON.stringify(part.type)} is not supported by Bedrock`, p);
  });
  return out;
}

function parseArguments(args: unknown): unknown {
  if (isObj(args)) return args;
  if (typeof args !== 'string' || !args.trim()) return {};
  try {
    const v = JSON.parse(args);
    return isObj(v) ? v : { value: v };
  } catch {
    return {};
  }
}

/** Translates an OpenAI chat.completions body to a Bedrock Converse request body. */
export function toConverseRequest(body: Json): Json {
  const system: Json[] = [];
  const messages: Json[] = [];
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    if (!blocks.length) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks); // Converse wants turns to alternate
    else messages.push({ role, content: blocks });
  };
  const msgs: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  msgs.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const param = `messages[${i}].content`;
    switch (raw.role) {
      case 'system':
      case 'developer': {
        const t = textOf(raw.content);
        if (t) system.push({ text: t });
        break;
      }
      case 'user':
        push('user', contentBlocks(raw.content, param));
        break;
      case 'assistant': {
        const blocks = contentBlocks(raw.content, param);
        for (const tc of Array.isArray(raw.tool_calls) ? raw.tool_calls : []) {
          if (!isObj(tc) || !isObj(tc.function)) continue;
          blocks.push({ toolUse: { toolUseId: String(tc.id ?? ''), name: String(tc.function.name ?? ''), input: parseArguments(tc.function.arguments) } });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool':
      case 'function': {
        const text = textOf(raw.content);
        push('user', [{ toolResult: { toolUseId: String(raw.tool_call_id ?? raw.name ?? ''), content: [{ text }] } }]);
        break;
      }
      default:
        throw badRequest(ErrorCode.INVALID_REQUEST, `Unknown message role ${JSON.stringify(raw.role)}`, `messages[${i}].role`);
    }
  });

  const out: Json = { messages };
  if (system.length) out.system = system;
  const inf: Json = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') inf.maxTokens = max;
  if (typeof body.temperature === 'number') inf.temperature = body.temperature;
  if (typeof body.top_p === 'number') inf.topP = body.top_p;
  if (typeof body.stop === 'string') inf.stopSequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length) inf.stopSequences = body.stop.map(String);
  if (Object.keys(inf).length) out.inferenceConfig = inf;

  const tools: unknown[] = Array.isArray(body.tools) ? body.tools : [];
  const choice = body.tool_choice;
  const historyUsesTools = messages.some((m) => m.content.some((b: Json) => b.toolUse || b.toolResult));
  if (tools.length && (choice !== 'none' || historyUsesTools)) {
    const specs = tools
      .filter((t): t is Json => isObj(t) && isObj(t.function))
      .map((t) => {
        const spec: Json = { name: String(t.function.name), inputSchema: { json: isObj(t.function.parameters) ? t.function.parameters : { type: 'object', properties: {} } } };
        if (typeof t.function.description === 'string') spec.description = t.function.description;
        return { toolSpec: spec };
      });
    const toolConfig: Json = { tools: specs };
    if (choice === 'auto') toolConfig.toolChoice = { auto: {} };
    else if (choice === 'required') toolConfig.toolChoice = { any: {} };
    else if (isObj(choice) && isObj(choice.function) && typeof choice.function.name === 'string') toolConfig.toolChoice = { tool: { name: choice.function.name } };
    out.toolConfig = toolConfig;
  }
  if (isObj(body.additional_model_request_fields)) out.additionalModelRequestFields = body.additional_model_request_fields;
  if (isObj(body.guardrail_config)) out.guardrailConfig = body.guardrail_config;
  return out;
}

// ---------------------------------------------------------------- response mapping

export function finishReason(stop: unknown): string | null {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    case undefined:
    case null:
      return null;
    default:
      return 'stop';
  }
}

/** Bedrock usage → OpenAI usage: cache reads and writes count as prompt tokens; reads are reported as cached. */
export function toOpenAIUsage(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const read = Number(u.cacheReadInputTokens ?? 0);
  const write = Number(u.cacheWriteInputTokens ?? 0);
  const prompt = Number(u.inputTokens ?? 0) + read + write;
  const completion = Number(u.outputTokens ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (u.cacheReadInputTokens !== undefined || u.cacheWriteInputTokens !== undefined) usage.prompt_tokens_details = { cached_tokens: read };
  return usage;
}

export function toOpenAIResponse(json: Json, input: BuildInput): Json {
  const blocks: unknown[] = isObj(json.output) && isObj(json.output.message) && Array.isArray(json.output.message.content) ? json.output.message.content : [];
  let text = '';
  let sawText = false;
  let reasoning = '';
  const calls: Json[] = [];
  for (const b of blocks) {
    if (!isObj(b)) continue;
    if (typeof b.text === 'string') {
      text += b.text;
      sawText = true;
    } else if (isObj(b.toolUse)) {
      calls.push({ id: String(b.toolUse.toolUseId), type: 'function', function: { name: String(b.toolUse.name), arguments: JSON.stringify(b.toolUse.input ?? {}) } });
    } else if (isObj(b.reasoningContent) && isObj(b.reasoningContent.reasoningText) && typeof b.reasoningContent.reasoningText.text === 'string') {
      reasoning += b.reasoningContent.reasoningText.text;
    }
  }
  const message: Json = { role: 'assistant', content: sawText ? text : null, refusal: null };
  if (calls.length) message.tool_calls = calls;
  if (reasoning) message.reasoning_content = reasoning;
  const out: Json = {
    id: `chatcmpl-${input.ctx.id}`,
    object: 'chat.completion',
    created: Math.floor((input.ctx.startedAt ?? Date.now()) / 1000),
    model: String(input.body?.model ?? ''),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(json.stopReason) ?? 'stop' }],
  };
  const usage = toOpenAIUsage(json.usage);
  if (usage) out.usage = usage;
  return out;
}

/** The AWS error type of an answer: `x-amzn-errortype` (before any `:`), else the body's `__type`. */
function errorType(body: unknown, headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers['x-amzn-errortype'];
  const raw = (Array.isArray(h) ? h[0] : h) ?? (isObj(body) && typeof body.__type === 'string' ? body.__type : undefined);
  if (!raw) return undefined;
  const t = raw.split(':')[0]!;
  return t.includes('#') ? t.slice(t.lastIndexOf('#') + 1) : t;
}

/** A Bedrock error answer as a GatewayError: status and AWS's message kept; throttling and 5xx retryable. */
export function mapBedrockError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const type = errorType(body, headers);
  const msg = isObj(body) ? (body.message ?? body.Message) : undefined;
  const message = typeof msg === 'string' ? msg : typeof body === 'string' && body ? body.slice(0, 1000) : `bedrock answered status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, type ? `${type}: ${message}` : message, {
    retryable: RETRYABLE_STATUS.has(status) || (type !== undefined && RETRYABLE_TYPES.has(type)),
    upstream: { status, body, headers },
  });
}

// ---------------------------------------------------------------- streaming

/** ConverseStream events (one per event-stream frame) → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class BedrockStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #includeUsage: boolean;
  /** Bedrock content block index → OpenAI tool call index. */
  readonly #tools = new Map<number, number>();
  #started = false;
  #finished = false;
  #done = false;

  constructor(input: BuildInput) {
    this.#out = new ChunkWriter({
      id: `chatcmpl-${input.ctx.id}`,
      model: String(input.body?.model ?? ''),
      created: Math.floor((input.ctx.startedAt ?? Date.now()) / 1000),
    });
    const so = input.body?.stream_options;
    this.#includeUsage = isObj(so) && so.include_usage === true;
  }

  #chunk(delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish);
  }

  #start(out: SSEEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push(this.#chunk({ role: 'assistant', content: '' }));
  }

  #end(usage?: Json): SSEEvent[] {
    const out: SSEEvent[] = [];
    if (this.#done) return out;
    this.#start(out);
    if (!this.#finished) {
      this.#finished = true;
      out.push(this.#chunk({}, 'stop'));
    }
    const u = toOpenAIUsage(usage);
    if (this.#includeUsage && u) out.push(this.#out.usage(u));
    this.#done = true;
    out.push(this.#out.done());
    return out;
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    let d: Json;
    try {
      const parsed: unknown = JSON.parse(ev.data);
      d = isObj(parsed) ? parsed : {};
    } catch {
      d = {};
    }
    const type = ev.event ?? '';
    if (type.startsWith('exception:')) {
      this.#done = true;
      const code = type.slice('exception:'.length);
      const message = String(d.message ?? d.Message ?? `bedrock stream ${code}`);
      return [{ data: JSON.stringify({ error: { message: `${code}: ${message}`, type: code === 'throttlingException' ? 'rate_limit_error' : 'server_error', code, param: null } }) }];
    }
    const out: SSEEvent[] = [];
    switch (type) {
      case 'messageStart':
        this.#start(out);
        break;
      case 'contentBlockStart': {
        this.#start(out);
        const tu = isObj(d.start) && isObj(d.start.toolUse) ? d.start.toolUse : undefined;
        if (tu) {
          const index = this.#tools.size;
          this.#tools.set(Number(d.contentBlockIndex ?? 0), index);
          out.push(this.#chunk({ tool_calls: [{ index, id: String(tu.toolUseId ?? ''), type: 'function', function: { name: String(tu.name ?? ''), arguments: '' } }] }));
        }
        break;
      }
      case 'contentBlockDelta': {
        this.#start(out);
        const delta = isObj(d.delta) ? d.delta : {};
        if (typeof delta.text === 'string') {
          if (delta.text) out.push(this.#chunk({ content: delta.text }));
        } else if (isObj(delta.toolUse)) {
          const index = this.#tools.get(Number(d.contentBlockIndex ?? 0));
          const piece = delta.toolUse.input;
          if (index !== undefined && typeof piece === 'string' && piece) out.push(this.#chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
        } else if (isObj(delta.reasoningContent) && typeof delta.reasoningContent.text === 'string' && delta.reasoningContent.text) {
          out.push(this.#chunk({ reasoning_content: delta.reasoningContent.text }));
        }
        break;
      }
      case 'messageStop':
        this.#start(out);
        if (!this.#finished) {
          this.#finished = true;
          out.push(this.#chunk({}, finishReason(d.stopReason) ?? 'stop'));
        }
        break;
      case 'metadata':
        out.push(...this.#end(isObj(d.usage) ? d.usage : undefined));
        break;
      default:
        break; // contentBlockStop, and event types added later
    }
    return out;
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !this.#started) return undefined;
    if (this.#finished) return this.#end(); // messageStop came; metadata is optional
    this.#done = true;
    return {
      data: JSON.stringify({ error: { message: 'The stream from bedrock ended before messageStop', type: 'server_error', code: 'stream_interrupted', param: null } }),
    };
  }
}

// ---------------------------------------------------------------- endpoints

export const chatCompletions: EndpointAdapter = {
  build(input) {
    const model = encodeURIComponent(modelOf(input));
    const stream = input.ctx.stream || input.body?.stream === true;
    const path = `/model/${model}/${stream ? 'converse-stream' : 'converse'}`;
    return signedPost(input, path, toConverseRequest(input.body ?? {}), stream ? 'application/vnd.amazon.eventstream' : 'application/json');
  },
  mapResponse: (json, input) => (isObj(json) ? toOpenAIResponse(json, input) : json),
  decodeStream: decodeEventStream,
  createStreamTransformer: (input) => new BedrockStreamTransformer(input),
  mapError: mapBedrockError,
};

/**
 * Embeddings through InvokeModel: Titan text (`amazon.titan-embed-text-*`, one input per request) and
 * Cohere on Bedrock (`cohere.embed-*`, up to 96 inputs, `input_type` default `search_document`).
 */
export const embeddings: EndpointAdapter = {
  build(input) {
    const body = input.body ?? {};
    const model = modelOf(input);
    const inputs = body.input;
    const path = `/model/${encodeURIComponent(model)}/invoke`;
    if (/^([a-z]{2,4}\.)?cohere\.embed/.test(model)) {
      const texts = typeof inputs === 'string' ? [inputs] : Array.isArray(inputs) && inputs.every((x) => typeof x === 'string') ? (inputs as string[]) : undefined;
      if (!texts || !texts.length) throw badRequest(ErrorCode.INVALID_REQUEST, 'Cohere embeddings on Bedrock take a string or an array of strings', 'input');
      const payload: Json = { texts, input_type: typeof body.input_type === 'string' ? body.input_type : 'search_document' };
      if (typeof body.truncate === 'string') payload.truncate = body.truncate;
      return signedPost(input, path, payload);
    }
    let text: string;
    if (typeof inputs === 'string') text = inputs;
    else if (Array.isArray(inputs) && inputs.length === 1 && typeof inputs[0] === 'string') text = inputs[0];
    else throw badRequest(ErrorCode.INVALID_REQUEST, 'Bedrock Titan embeddings take one string input per request', 'input');
    const payload: Json = { inputText: text };
    if (typeof body.dimensions === 'number') payload.dimensions = body.dimensions;
    if (model.startsWith('amazon.titan-embed-text-v2')) payload.normalize = true;
    return signedPost(input, path, payload);
  },
  mapResponse(json, input) {
    if (!isObj(json)) return json;
    const model = String(input.body?.model ?? '');
    let vectors: unknown[] | undefined;
    let tokens = 0;
    if (Array.isArray(json.embedding)) {
      vectors = [json.embedding];
      tokens = Number(json.inputTextTokenCount ?? 0);
    } else if (Array.isArray(json.embeddings)) vectors = json.embeddings;
    else if (isObj(json.embeddings) && Array.isArray(json.embeddings.float)) vectors = json.embeddings.float;
    if (!vectors) return json;
    const base64 = input.body?.encoding_format === 'base64'; // the `openai` SDK's default
    return {
      object: 'list',
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding: base64 ? base64Embedding(embedding) : embedding })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
  mapError: mapBedrockError,
};

/** The Bedrock provider adapter. */
export const bedrock: ProviderAdapter = {
  id: 'bedrock',
  displayName: 'Amazon Bedrock',
  baseURL: DEFAULT_BASE_URL,
  endpoints: { 'chat.completions': chatCompletions, embeddings },
};
