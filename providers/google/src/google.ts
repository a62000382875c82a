import { ChunkWriter, ErrorCode, GatewayError, badRequest, base64Embedding } from '@waygate/core';
import type { BuildInput, EndpointAdapter, ProviderAdapter, SSEEvent, StreamTransformer, UpstreamRequest, Usage } from '@waygate/core';

/**
 * Google's Gemini API behind Waygate's canonical (OpenAI chat.completions) format: requests are
 * translated to `POST /models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`), answers
 * and event streams back to OpenAI's shapes; embeddings go to `:batchEmbedContents`.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Gemini's JSON is built and read by path both ways, and so are the tests' assertions
type Json = Record<string, any>;

export const GOOGLE_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(['RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'INTERNAL', 'DEADLINE_EXCEEDED']);

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A model name as Gemini's path wants it: without a leading `models/`. */
export function modelPath(model: unknown): string {
  if (typeof model !== 'string' || !model.trim()) throw badRequest(ErrorCode.INVALID_REQUEST, 'model is required for google', 'model');
  const m = model.replace(/^models\//, '');
  return `models/${encodeURIComponent(m)}`;
}

function parseArguments(args: unknown): Json {
  if (isObj(args)) return args;
  if (typeof args !== 'string' || !args.trim()) return {};
  try {
    const v = JSON.parse(args);
    return isObj(v) ? v : { value: v };
  } catch {
    return {};
  }
}

/** An OpenAI `image_url` (or `file`) part as a Gemini part: data URLs → inlineData, http(s)/gs URLs → fileData. */
function mediaPart(url: unknown, mimeHint: unknown, param: string): Json {
  if (typeof url !== 'string' || !url) throw badRequest(ErrorCode.INVALID_REQUEST, 'image_url.url must be a non-empty string', param);
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { inlineData: { mimeType: m[1], data: m[2] } };
  if (/^(https?|gs):\/\//i.test(url)) {
    const mimeType = typeof mimeHint === 'string' && mimeHint ? mimeHint : guessMime(url);
    return { fileData: { mimeType, fileUri: url } };
  }
  throw badRequest(ErrorCode.INVALID_REQUEST, 'image_url.url must be a data: URL (base64) or an http(s) URL for google', param);
}

function guessMime(url: string): string {
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  const map: Record<string, string> = {
    png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic',
    pdf: 'application/pdf', mp3: 'audio/mp3', wav: 'audio/wav', mp4: 'video/mp4',
  };
  return (ext && map[ext]) || 'image/jpeg';
}

/** OpenAI content (string or parts) → Gemini parts. */
function toParts(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  content.forEach((part, i) => {
    if (!isObj(part)) return;
    const p = `${param}[${i}]`;
    if (part.type === 'text') out.push({ text: String(part.text ?? '') });
    else if (part.type === 'image_url') {
      const iu = part.image_url;
      out.push(mediaPart(isObj(iu) ? iu.url : iu, isObj(iu) ? (iu.mime_type ?? iu.format) : undefined, p));
    } else if (part.type === 'input_audio' && isObj(part.input_audio)) {
      out.push({ inlineData: { mimeType: `audio/${part.input_audio.format ?? 'wav'}`, data: String(part.input_audio.data ?? '') } });
    } else throw badRequest(ErrorCode.INVALID_REQUEST, `Content part type ${JSON.stringify(part.type)} is not supported by google`, p);
  });
  return out;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/** Translates an OpenAI chat.completions request body to a Gemini GenerateContentRequest body. */
export function toGeminiRequest(body: Json): Json {
  const system: Json[] = [];
  const contents: Json[] = [];
  const callNames = new Map<string, string>();
  let toolTurn: Json | undefined;
  const msgs: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  msgs.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const param = `messages[${i}].content`;
    const role = raw.role;
    if (role === 'system' || role === 'developer') {
      const t = textOf(raw.content);
      if (t) system.push({ text: t });
      return;
    }
    if (role === 'tool' || role === 'function') {
      const id = typeof raw.tool_call_id === 'string' ? raw.tool_call_id : undefined;
      const name = (id && callNames.get(id)) ?? (typeof raw.name === 'string' ? raw.name : undefined);
      if (!name) throw badRequest(ErrorCode.INVALID_REQUEST, `No earlier assistant tool call has the id ${JSON.stringify(id)}`, `messages[${i}].tool_call_id`);
      const text = textOf(raw.content);
      let content: unknown = text;
      try {
        const v = JSON.parse(text);
        if (typeof v === 'object' && v !== null) content = v;
      } catch {
        /* plain text */
      }
      const part = { functionResponse: { name, response: { content } } };
      if (toolTurn) toolTurn.parts.push(part);
      else contents.push((toolTurn = { role: 'user', parts: [part] }));
      return;
    }
    toolTurn = undefined;
    if (role === 'assistant') {
      const parts = toParts(raw.content, param);
      if (Array.isArray(raw.tool_calls)) {
        for (const call of raw.tool_calls) {
          if (!isObj(call)) continue;
          const fn = isObj(call.function) ? call.function : {};
          const name = String(fn.name ?? '');
          if (typeof call.id === 'string') callNames.set(call.id, name);
          const part: Json = { functionCall: { name, args: parseArguments(fn.arguments) } };
          // Gemini's thought signature, as this adapter (and Google's own OpenAI layer) hands it out.
          const sig = isObj(call.extra_content) && isObj(call.extra_content.google) ? call.extra_content.google.thought_signature : undefined;
          if (typeof sig === 'string' && sig) part.thoughtSignature = sig;
          parts.push(part);
        }
      }
      if (parts.length) contents.push({ role: 'model', parts });
      return;
    }
    contents.push({ role: 'user', parts: toParts(raw.content, param) });
  });

  const out: Json = { contents };
  if (system.length) out.systemInstruction = { parts: system };

  const tools: Json[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    if (!isObj(t) || t.type !== 'function' || !isObj(t.function)) continue;
    const f = t.function;
    const decl: Json = { name: f.name };
    if (f.description) decl.description = f.description;
    if (f.parameters) decl.parameters = f.parameters;
    tools.push(decl);
  }
  if (tools.length) out.tools = [{ functionDeclarations: tools }];

  const tc = body.tool_choice;
  let fcc: Json | undefined;
  if (tc === 'none') fcc = { mode: 'NONE' };
  else if (tc === 'auto') fcc = { mode: 'AUTO' };
  else if (tc === 'required') fcc = { mode: 'ANY' };
  else if (isObj(tc) && isObj(tc.function) && typeof tc.function.name === 'string') fcc = { mode: 'ANY', allowedFunctionNames: [tc.function.name] };
  if (fcc && (tools.length || fcc.mode === 'NONE')) out.toolConfig = { functionCallingConfig: fcc };

  const gc: Json = {};
  if (body.stop !== undefined && body.stop !== null) gc.stopSequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') gc.maxOutputTokens = max;
  if (typeof body.temperature === 'number') gc.temperature = body.temperature;
  if (typeof body.top_p === 'number') gc.topP = body.top_p;
  if (typeof body.top_k === 'number') gc.topK = body.top_k;
  if (typeof body.n === 'number' && body.n !== 1) gc.candidateCount = body.n;
  if (typeof body.seed === 'number') gc.seed = body.seed;
  if (typeof body.presence_penalty === 'number') gc.presencePenalty = body.presence_penalty;
  if (typeof body.frequency_penalty === 'number') gc.frequencyPenalty = body.frequency_penalty;
  const rf = body.response_format;
  if (isObj(rf) && rf.type === 'json_object') gc.responseMimeType = 'application/json';
  else if (isObj(rf) && rf.type === 'json_schema') {
    gc.responseMimeType = 'application/json';
    if (isObj(rf.json_schema) && isObj(rf.json_schema.schema)) gc.responseJsonSchema = rf.json_schema.schema;
  }
  if (Object.keys(gc).length) out.generationConfig = gc;
  return out;
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

/** Gemini's finishReason as OpenAI's finish_reason (tool calls win over STOP). */
export function finishReason(reason: unknown, hasToolCalls = false): string | null {
  if (reason === null || reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return hasToolCalls ? 'tool_calls' : null;
  const r = String(reason);
  if (FILTERED.has(r)) return 'content_filter';
  if (r === 'MAX_TOKENS') return 'length';
  if (hasToolCalls) return 'tool_calls';
  return 'stop';
}

/** Gemini usageMetadata → OpenAI usage: thoughts count as completion tokens; cached tokens are part of the prompt. */
export function toOpenAIUsage(u: Json | undefined): Usage {
  const prompt = Number(u?.promptTokenCount ?? 0) + Number(u?.toolUsePromptTokenCount ?? 0);
  const thoughts = Number(u?.thoughtsTokenCount ?? 0);
  const completion = Number(u?.candidatesTokenCount ?? 0) + thoughts;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Number(u?.cachedContentTokenCount ?? 0) },
  };
  if (thoughts) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

/** A candidate's parts as OpenAI message fields. */
function readParts(parts: unknown, firstCall: number): { text: string; sawText: boolean; reasoning: string; calls: Json[] } {
  let text = '';
  let sawText = false;
  let reasoning = '';
  const calls: Json[] = [];
  for (const p of Array.isArray(parts) ? parts : []) {
    if (!isObj(p)) continue;
    if (typeof p.text === 'string') {
      if (p.thought === true) reasoning += p.text;
      else {
        text += p.text;
        sawText = true;
      }
    } else if (isObj(p.functionCall)) {
      const id = typeof p.functionCall.id === 'string' && p.functionCall.id ? p.functionCall.id : `call_${firstCall + calls.length}`;
      const call: Json = { id, type: 'function', function: { name: String(p.functionCall.name ?? ''), arguments: JSON.stringify(p.functionCall.args ?? {}) } };
      if (typeof p.thoughtSignature === 'string' && p.thoughtSignature) call.extra_content = { google: { thought_signature: p.thoughtSignature } };
      calls.push(call);
    }
  }
  return { text, sawText, reasoning, calls };
}

/** Translates a Gemini GenerateContentResponse to an OpenAI chat.completion. */
export function toOpenAIResponse(res: Json, requestModel?: unknown): Json {
  const candidates: Json[] = Array.isArray(res.candidates) ? res.candidates.filter(isObj) : [];
  const choices = candidates.map((c, i) => {
    const { text, sawText, reasoning, calls } = readParts(isObj(c.content) ? c.content.parts : undefined, 0);
    const message: Json = { role: 'assistant', content: sawText ? text : null, refusal: null };
    if (calls.length) message.tool_calls = calls;
    if (reasoning) message.reasoning_content = reasoning;
    return { index: typeof c.index === 'number' ? c.index : i, message, logprobs: null, finish_reason: finishReason(c.finishReason, calls.length > 0) ?? 'stop' };
  });
  if (!choices.length) {
    // No candidates: the prompt itself was blocked (promptFeedback.blockReason).
    const blocked = isObj(res.promptFeedback) && res.promptFeedback.blockReason;
    choices.push({ index: 0, message: { role: 'assistant', content: null, refusal: null }, logprobs: null, finish_reason: blocked ? 'content_filter' : 'stop' });
  }
  return {
    id: `chatcmpl-${typeof res.responseId === 'string' && res.responseId ? res.responseId : Date.now().toString(36)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof res.modelVersion === 'string' ? res.modelVersion : String(requestModel ?? ''),
    choices,
    usage: toOpenAIUsage(isObj(res.usageMetadata) ? res.usageMetadata : undefined),
  };
}

function errorParts(body: unknown): { message?: string; code?: string } {
  const b = Array.isArray(body) ? body[0] : body; // streamed errors may come as a one-element array
  const err = isObj(b) && isObj(b.error) ? b.error : undefined;
  return { message: typeof err?.message === 'string' ? err.message : undefined, code: typeof err?.status === 'string' ? err.status : undefined };
}

/** A Gemini error answer as a GatewayError: status and message kept; rate limits, overload and internal errors retryable. */
export function mapGoogleError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const { message, code } = errorParts(body);
  const msg = message ?? (typeof body === 'string' && body ? body.slice(0, 1000) : `google answered status ${status}`);
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, msg, {
    retryable: RETRYABLE_STATUS.has(status) || (code !== undefined && RETRYABLE_CODES.has(code)),
    type: code,
    upstream: { status, body, headers },
  });
}

/** Gemini's SSE stream (each event a GenerateContentResponse) → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class GoogleStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #includeUsage: boolean;
  #usage: Json | undefined;
  #started = false;
  #finished = false;
  #done = false;
  /** Per candidate index: role sent, tool calls so far. */
  readonly #cands = new Map<number, { calls: number; finished: boolean }>();

  constructor(includeUsage: boolean, model: string) {
    this.#includeUsage = includeUsage;
    this.#out = new ChunkWriter({ id: `chatcmpl-${Date.now().toString(36)}`, model });
  }

  #chunk(index: number, delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish, index);
  }

  transform(ev: SSEEvent): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !ev.data || !ev.data.trim()) return undefined;
    let d: Json;
    try {
      d = JSON.parse(ev.data);
    } catch {
      throw new Error(`google sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (Array.isArray(d)) d = isObj(d[0]) ? d[0] : {};
    if (isObj(d.error)) {
      this.#done = true;
      const e = d.error;
      return { data: JSON.stringify({ error: { message: String(e.message ?? 'google stream error'), type: e.status ?? 'server_error', code: e.status ?? null, param: null } }) };
    }
    if (!this.#started && typeof d.responseId === 'string' && d.responseId) this.#out.id = `chatcmpl-${d.responseId}`;
    if (typeof d.modelVersion === 'string' && d.modelVersion) this.#out.model = d.modelVersion;
    if (isObj(d.usageMetadata)) this.#usage = d.usageMetadata;
    const out: SSEEvent[] = [];
    const candidates: Json[] = Array.isArray(d.candidates) ? d.candidates.filter(isObj) : [];
    if (!candidates.length && isObj(d.promptFeedback) && d.promptFeedback.blockReason) {
      out.push(this.#chunk(0, { role: 'assistant', content: '' }));
      out.push(this.#chunk(0, {}, 'content_filter'));
      this.#started = true;
      this.#finished = true;
      return out;
    }
    candidates.forEach((c, i) => {
      const index = typeof c.index === 'number' ? c.index : i;
      let st = this.#cands.get(index);
      if (!st) {
        st = { calls: 0, finished: false };
        this.#cands.set(index, st);
        out.push(this.#chunk(index, { role: 'assistant', content: '' }));
      }
      this.#started = true;
      const { text, reasoning, calls } = readParts(isObj(c.content) ? c.content.parts : undefined, st.calls);
      if (reasoning) out.push(this.#chunk(index, { reasoning_content: reasoning }));
      if (text) out.push(this.#chunk(index, { content: text }));
      if (calls.length) {
        out.push(this.#chunk(index, { tool_calls: calls.map((call, k) => ({ index: st!.calls + k, ...call })) }));
        st.calls += calls.length;
      }
      if (c.finishReason && c.finishReason !== 'FINISH_REASON_UNSPECIFIED' && !st.finished) {
        st.finished = true;
        out.push(this.#chunk(index, {}, finishReason(c.finishReason, st.calls > 0)));
      }
    });
    if (this.#cands.size && [...this.#cands.values()].every((s) => s.finished)) this.#finished = true;
    return out.length ? out : undefined;
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    this.#done = true;
    if (this.#started && !this.#finished) {
      return {
        data: JSON.stringify({ error: { message: 'The stream from google ended before a finishReason', type: 'server_error', code: 'stream_interrupted', param: null } }),
      };
    }
    const out: SSEEvent[] = [];
    if (this.#includeUsage) out.push(this.#out.usage(toOpenAIUsage(this.#usage)));
    out.push(this.#out.done());
    return out;
  }
}

function headers(input: BuildInput): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  if (input.target.apiKey) h['x-goog-api-key'] = input.target.apiKey;
  return h;
}

function base(input: BuildInput): string {
  return (input.target.baseURL ?? GOOGLE_BASE_URL).replace(/\/+$/, '');
}

function buildChat(input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  const stream = body.stream === true;
  const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return {
    url: `${base(input)}/${modelPath(body.model)}:${method}`,
    method: 'POST',
    headers: headers(input),
    body: JSON.stringify(toGeminiRequest(body)),
  };
}

/** OpenAI embeddings request → Gemini batchEmbedContents body. */
export function toGeminiEmbedRequest(body: Json): Json {
  const model = modelPath(body.model);
  const input: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
  if (!input.length || !input.every((x) => typeof x === 'string'))
    throw badRequest(ErrorCode.INVALID_REQUEST, 'google embeddings take input as a string or an array of strings', 'input');
  return {
    requests: input.map((text) => {
      const r: Json = { model, content: { parts: [{ text }] } };
      if (typeof body.dimensions === 'number') r.outputDimensionality = body.dimensions;
      if (typeof body.task_type === 'string') r.taskType = body.task_type;
      return r;
    }),
  };
}

/** Gemini batchEmbedContents answer → OpenAI embeddings list (vectors base64-encoded when the request asked for `base64`, as the `openai` SDK does by default). */
export function toOpenAIEmbeddings(res: Json, model: unknown, encodingFormat?: unknown): Json {
  const embs: Json[] = Array.isArray(res.embeddings) ? res.embeddings : [];
  const vector = (values: unknown[]) => (encodingFormat === 'base64' ? base64Embedding(values) : values);
  return {
    object: 'list',
    data: embs.map((e, index) => ({ object: 'embedding', index, embedding: vector(isObj(e) && Array.isArray(e.values) ? e.values : []) })),
    model: String(model ?? ''),
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}

export const chatCompletions: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => (isObj(json) ? toOpenAIResponse(json, input.body?.model) : json),
  createStreamTransformer: (input) => {
    const so = input.body?.stream_options;
    return new GoogleStreamTransformer(isObj(so) && so.include_usage === true, String(input.body?.model ?? ''));
  },
  mapError: mapGoogleError,
};

export const embeddings: EndpointAdapter = {
  build: (input) => {
    const body = input.body ?? {};
    return {
      url: `${base(input)}/${modelPath(body.model)}:batchEmbedContents`,
      method: 'POST',
      headers: headers(input),
      body: JSON.stringify(toGeminiEmbedRequest(body)),
    };
  },
  mapResponse: (json, input) => (isObj(json) ? toOpenAIEmbeddings(json, input.body?.model, input.body?.encoding_format) : json),
  mapError: mapGoogleError,
};

/** The Google (Gemini API) provider adapter. */
export const google: ProviderAdapter = {
  id: 'google',
  displayName: 'Google Gemini',
  baseURL: GOOGLE_BASE_URL,
  endpoints: { 'chat.completions': chatCompletions, embeddings },
};
