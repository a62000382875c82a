// A fake OpenAI upstream: a real HTTP/1.1 server on loopback (node:http only) that speaks the
// documented OpenAI wire format for chat completions, legacy completions, embeddings and the model
// list, with scripted fault injection. The end-to-end suite points the gateway at it; the
// benchmark runs it with `record: false` as a cheap, deterministic upstream.
//
// Behaviour resolution: every request that arrives takes the next queued behaviour (in arrival
// order), or 'ok' once the queue is empty. A fault behaviour ('status', 'reset', stream faults,
// 'malformed-json') answers regardless of path, auth or body; 'ok' is the real handling (API key
// check, routing, body validation, then the normal answer). Stream faults on /v1/completions use
// the legacy `text_completion` chunk format; on any other path the chat chunk format.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface FakeRequest {
  method: string;
  path: string;
  /** The query string without the leading '?', '' when there is none. */
  query: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: any;
  /** True if the client closed the connection before the answer was fully written. */
  aborted: boolean;
}

export type FakeBehavior =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number; then?: FakeBehavior }
  | { kind: 'stream-cut'; afterChunks: number }
  | { kind: 'stream-error'; afterChunks: number; error?: unknown }
  | { kind: 'stream-stall'; afterChunks: number }
  | { kind: 'malformed-sse'; afterChunks: number }
  | { kind: 'malformed-json' };

export interface FakeOpenAIOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 'fake-openai'. */
  name?: string;
  /** Default true; false keeps no request log (benchmark). */
  record?: boolean;
  /** If set, 'ok' answers require `Authorization: Bearer <apiKey>`, else a 401 OpenAI-shaped error. */
  apiKey?: string;
  /** Content chunks per stream, default 5. */
  chunkCount?: number;
  /** Assistant text, default `Hello from ${name}`. */
  reply?: string;
  /** Added before every answer, default 0. */
  latencyMs?: number;
}

type StreamFault = Extract<FakeBehavior, { afterChunks: number }>;

/** Per-request state. */
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: any;
  bodyInvalid: boolean;
  rec: FakeRequest | undefined;
  /** The response has emitted 'close' (finished, or the connection went away). */
  closed: boolean;
  /** The fake itself cut the connection or ended the answer early (not a client abort). */
  selfClosed: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** The reply text, precomputed for the wire. */
interface Reply {
  text: string;
  words: number;
  /** JSON string literal of the text. */
  json: string;
  /** Chat chunk deltas, one JSON object per content chunk. */
  deltas: string[];
  /** Legacy chunk texts, one JSON string literal per content chunk. */
  texts: string[];
}

interface Waiter {
  done: () => boolean;
  resolve: () => void;
}

const OK: FakeBehavior = { kind: 'ok' };
const KINDS = new Set(['ok', 'status', 'reset', 'delay', 'stream-cut', 'stream-error', 'stream-stall', 'malformed-sse', 'malformed-json']);
const FALLBACK_MODEL = 'gpt-4o-mini';
const DEFAULT_TIMEOUT_MS = 5000;
const MAX_DIMENSIONS = 8192;
const ROLE_DELTA = '{"role":"assistant","content":""}';
const DONE_FRAME = 'data: [DONE]\n\n';
const MALFORMED_JSON_BODY = '{"id":"chatcmpl-malformed","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel';
const MALFORMED_SSE_FRAME = 'data: {"id":"chatcmpl-malformed","object": this is not JSON\n\n';
const DEFAULT_STREAM_ERROR = {
  message: 'The server had an error while processing your request. Sorry about that!',
  type: 'server_error',
  param: null,
  code: null,
};
const BAD_JSON_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)";
const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
const WRONG_KEY_MESSAGE = 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.';

const MODELS_JSON = JSON.stringify({
  object: 'list',
  data: [
    { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' },
    { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
    { id: 'gpt-3.5-turbo-instruct', object: 'model', created: 1692901427, owned_by: 'system' },
    { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
  ],
});

/** `{"error":{...}}`, OpenAI's error shape. */
function errorJson(message: string, type: string, param: string | null, code: string | null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

const statusBodyCache = new Map<number, string>();

/** The error body OpenAI would plausibly send with this status. */
function defaultStatusBody(status: number): string {
  let s = statusBodyCache.get(status);
  if (s !== undefined) return s;
  if (status === 401) s = errorJson(WRONG_KEY_MESSAGE, 'invalid_request_error', null, 'invalid_api_key');
  else if (status === 404) s = errorJson('The requested resource does not exist.', 'invalid_request_error', null, null);
  else if (status === 429) s = errorJson('Rate limit reached for requests. Please try again later.', 'requests', null, 'rate_limit_exceeded');
  else if (status === 503) s = errorJson('The engine is currently overloaded, please try again later.', 'server_error', null, null);
  else if (status >= 500) s = errorJson(DEFAULT_STREAM_ERROR.message, 'server_error', null, null);
  else s = errorJson(`Request failed with status ${status}.`, 'invalid_request_error', null, null);
  statusBodyCache.set(status, s);
  return s;
}

/** Same set as the RegExp class \s. */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 160 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Number of whitespace-separated words. */
function countWords(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    if (isSpace(s.charCodeAt(i))) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}

/** The prefix of s that ends with its k-th word ('' for k = 0). */
function firstWords(s: string, k: number): string {
  if (k <= 0) return '';
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    if (isSpace(s.charCodeAt(i))) {
      if (inWord && n === k) return s.slice(0, i);
      inWord = false;
    } else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return s;
}

/** Split text into n pieces of near-equal length (by code point) whose concatenation is text. */
function splitEven(text: string, n: number): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(cps.slice(Math.floor((i * cps.length) / n), Math.floor(((i + 1) * cps.length) / n)).join(''));
  }
  return out;
}

function makeReply(text: string, chunkCount: number): Reply {
  const pieces = splitEven(text, chunkCount);
  return {
    text,
    words: countWords(text),
    json: JSON.stringify(text),
    deltas: pieces.map((p) => `{"content":${JSON.stringify(p)}}`),
    texts: pieces.map((p) => JSON.stringify(p)),
  };
}

/** Words of every message content, string or text parts. */
function countMessageWords(messages: unknown[]): number {
  let n = 0;
  for (const m of messages) {
    if (m === null || typeof m !== 'object') continue;
    const c = (m as { content?: unknown }).content;
    if (typeof c === 'string') n += countWords(c);
    else if (Array.isArray(c)) {
      for (const part of c) {
        if (part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
          n += countWords((part as { text: string }).text);
        }
      }
    }
  }
  return n;
}

/** Legacy prompt size: words of strings, length of token arrays. */
function countPromptTokens(prompt: unknown): number {
  if (typeof prompt === 'string') return countWords(prompt);
  if (!Array.isArray(prompt)) return 0;
  let n = 0;
  for (const p of prompt) {
    if (typeof p === 'string') n += countWords(p);
    else if (typeof p === 'number') n += 1;
    else if (Array.isArray(p)) n += p.length;
  }
  return n;
}

/** The first of the given values that is a non-negative number, floored. */
function tokenLimit(...values: unknown[]): number | undefined {
  for (const v of values) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  }
  return undefined;
}

function usageJson(prompt: number, completion: number): string {
  return `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion}}`;
}

function isTokenArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((t) => typeof t === 'number');
}

/** Embedding inputs as (key, token count) pairs, or undefined if the input is not valid. */
function embeddingInputs(input: unknown): { key: string; tokens: number }[] | undefined {
  if (typeof input === 'string') return [{ key: input, tokens: countWords(input) }];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((x) => typeof x === 'string')) {
    return (input as string[]).map((s) => ({ key: s, tokens: countWords(s) }));
  }
  if (isTokenArray(input)) return [{ key: `\u0000tokens:${input.join(',')}`, tokens: input.length }];
  if (input.every(isTokenArray)) {
    return (input as number[][]).map((t) => ({ key: `\u0000tokens:${t.join(',')}`, tokens: t.length }));
  }
  return undefined;
}

/** A unit-length vector derived only from key: FNV-1a seed, xorshift32 stream, float32-rounded. */
function embedVector(key: string, dims: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let state = h | 0 || 0x9e3779b9;
  const v = new Array<number>(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const x = (state >>> 0) / 4294967296 - 0.5;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] = Math.fround(v[i]! / norm);
  return v;
}

function float32Base64(v: number[]): string {
  const buf = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf.toString('base64');
}

/** Write one SSE frame and push it to the socket now, rather than coalescing it with later ones. */
function writeFrame(res: ServerResponse, frame: string): void {
  res.write(frame);
  const s = res.socket;
  if (s !== null && s.writableCorked > 0) s.uncork();
}

function isPlainObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function validateBehavior(b: FakeBehavior): void {
  if (b === null || typeof b !== 'object' || !KINDS.has((b as { kind: string }).kind)) {
    throw new TypeError(`FakeOpenAI: unknown behaviour ${JSON.stringify(b)}`);
  }
  if (b.kind === 'status' && !(Number.isInteger(b.status) && b.status >= 200 && b.status <= 599)) {
    throw new RangeError(`FakeOpenAI: status must be an integer in 200..599, got ${b.status}`);
  }
  if (b.kind === 'delay') {
    if (!(Number.isFinite(b.ms) && b.ms >= 0)) throw new RangeError(`FakeOpenAI: delay ms must be >= 0, got ${b.ms}`);
    if (b.then !== undefined) validateBehavior(b.then);
  }
  if ('afterChunks' in b && !(Number.isInteger(b.afterChunks) && b.afterChunks >= 0)) {
    throw new RangeError(`FakeOpenAI: afterChunks must be an integer >= 0, got ${b.afterChunks}`);
  }
}

export class FakeOpenAI {
  /** Start listening; resolves once the port is bound. */
  static async start(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    const host = opts.host ?? '127.0.0.1';
    const chunkCount = opts.chunkCount ?? 5;
    if (!(Number.isInteger(chunkCount) && chunkCount >= 1)) {
      throw new RangeError(`FakeOpenAI: chunkCount must be an integer >= 1, got ${chunkCount}`);
    }
    let fake: FakeOpenAI | undefined;
    const server = createServer((req, res) => fake!.onRequest(req, res));
    // Outlive typical client idle timeouts so pooled sockets are not closed under a client's feet.
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fake = new FakeOpenAI(server, host, (server.address() as AddressInfo).port, opts);
    return fake;
  }

  readonly url: string;
  readonly baseURL: string;
  readonly port: number;
  readonly requests: FakeRequest[] = [];

  private readonly server: Server;
  private readonly record: boolean;
  private readonly authHeader: string | undefined;
  private readonly chunkCount: number;
  private readonly latencyMs: number;
  private readonly reply: Reply;
  private readonly truncated = new Map<number, Reply>();
  private readonly fingerprint: string;
  private readonly idBase: string;
  private seq = 0;
  private queue: FakeBehavior[] = [];
  private active = 0;
  private readonly stalled = new Set<Ctx>();
  private waiters: Waiter[] = [];
  private closing: Promise<void> | undefined;

  private constructor(server: Server, host: string, port: number, opts: FakeOpenAIOptions) {
    const name = opts.name ?? 'fake-openai';
    const chunkCount = opts.chunkCount ?? 5;
    this.server = server;
    this.port = port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.baseURL = `${this.url}/v1`;
    this.record = opts.record ?? true;
    this.authHeader = opts.apiKey === undefined ? undefined : `Bearer ${opts.apiKey}`;
    this.chunkCount = chunkCount;
    this.latencyMs = Math.max(0, opts.latencyMs ?? 0);
    this.reply = makeReply(opts.reply ?? `Hello from ${name}`, chunkCount);
    this.idBase = randomBytes(6).toString('hex');
    this.fingerprint = `fp_${this.idBase.slice(0, 10)}`;
  }

  /** The next requests get these behaviours in order; after the queue is empty, 'ok'. */
  enqueue(...behaviors: FakeBehavior[]): this {
    for (const b of behaviors) validateBehavior(b);
    this.queue.push(...behaviors);
    return this;
  }

  /** Clear the request log and the behaviour queue. */
  reset(): void {
    this.requests.length = 0;
    this.queue = [];
  }

  /** Resolves when requests.length >= n; rejects after timeoutMs (default 5000). */
  waitForRequests(n: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (!this.record && n > 0) {
      return Promise.reject(new Error('FakeOpenAI: waitForRequests needs record: true'));
    }
    return this.waitUntil(
      () => this.requests.length >= n,
      timeoutMs,
      () => `FakeOpenAI: timed out after ${timeoutMs}ms waiting for ${n} request(s), have ${this.requests.length}`,
    );
  }

  /** Requests currently being answered (body being read, delayed, streaming or stalled). */
  activeRequests(): number {
    return this.active;
  }

  /** Resolves when activeRequests() === 0; rejects after timeoutMs (default 5000). */
  waitForIdle(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.waitUntil(
      () => this.active === 0,
      timeoutMs,
      () => `FakeOpenAI: timed out after ${timeoutMs}ms waiting for idle, ${this.active} request(s) active`,
    );
  }

  /** End stalled streams, close every socket and stop listening. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      for (const ctx of this.stalled) {
        ctx.selfClosed = true;
        ctx.res.end();
      }
      this.stalled.clear();
      this.queue = [];
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------

  private waitUntil(done: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(message()));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private checkWaiters(): void {
    const ready = this.waiters.filter((w) => w.done());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.active++;
    const ctx: Ctx = {
      req,
      res,
      path: '',
      body: undefined,
      bodyInvalid: false,
      rec: undefined,
      closed: false,
      selfClosed: false,
      timer: undefined,
    };
    res.once('close', () => this.onClose(ctx));
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.once('end', () => this.onBody(ctx, raw));
  }

  private onClose(ctx: Ctx): void {
    ctx.closed = true;
    this.active--;
    if (ctx.timer !== undefined) clearTimeout(ctx.timer);
    this.stalled.delete(ctx);
    if (ctx.rec !== undefined && !ctx.selfClosed && !ctx.res.writableFinished) ctx.rec.aborted = true;
    if (this.waiters.length > 0) this.checkWaiters();
  }

  private onBody(ctx: Ctx, raw: string): void {
    if (ctx.closed) return;
    const url = ctx.req.url ?? '/';
    const q = url.indexOf('?');
    ctx.path = q === -1 ? url : url.slice(0, q);
    if (raw.length > 0) {
      try {
        ctx.body = JSON.parse(raw);
      } catch {
        ctx.bodyInvalid = true;
      }
    }
    if (this.record) {
      ctx.rec = {
        method: ctx.req.method ?? 'GET',
        path: ctx.path,
        query: q === -1 ? '' : url.slice(q + 1),
        headers: ctx.req.headers,
        rawBody: raw,
        body: ctx.body,
        aborted: false,
      };
      this.requests.push(ctx.rec);
      if (this.waiters.length > 0) this.checkWaiters();
    }
    const behavior = this.queue.length === 0 ? OK : this.queue.shift()!;
    if (this.latencyMs > 0) this.later(ctx, this.latencyMs, behavior);
    else this.run(ctx, behavior);
  }

  private later(ctx: Ctx, ms: number, behavior: FakeBehavior): void {
    ctx.timer = setTimeout(() => {
      ctx.timer = undefined;
      if (!ctx.closed) this.run(ctx, behavior);
    }, ms);
  }

  private run(ctx: Ctx, b: FakeBehavior): void {
    switch (b.kind) {
      case 'ok':
        return this.answer(ctx);
      case 'status':
        return this.sendStatus(ctx, b);
      case 'reset':
        ctx.selfClosed = true;
        ctx.req.socket.destroy();
        return;
      case 'delay':
        return this.later(ctx, b.ms, b.then ?? OK);
      case 'stream-cut':
      case 'stream-error':
      case 'stream-stall':
      case 'malformed-sse': {
        const legacy = ctx.path === '/v1/completions';
        const model = isPlainObject(ctx.body) ? ctx.body.model : undefined;
        return this.stream(ctx, legacy, model, this.reply, undefined, undefined, b);
      }
      case 'malformed-json':
        return this.sendJson(ctx, 200, MALFORMED_JSON_BODY);
    }
  }

  private nextId(): string {
    return this.idBase + (++this.seq).toString(36).padStart(6, '0');
  }

  private sendJson(ctx: Ctx, status: number, json: string): void {
    ctx.res
      .writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(json),
        'x-request-id': `req_${this.nextId()}`,
      })
      .end(json);
  }

  private sendError(ctx: Ctx, status: number, message: string, param: string | null = null, code: string | null = null): void {
    this.sendJson(ctx, status, errorJson(message, 'invalid_request_error', param, code));
  }

  private sendStatus(ctx: Ctx, b: Extract<FakeBehavior, { kind: 'status' }>): void {
    const res = ctx.res;
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-request-id', `req_${this.nextId()}`);
    if (b.headers !== undefined) for (const [k, v] of Object.entries(b.headers)) res.setHeader(k, v);
    if (b.status === 204 || b.status === 304) {
      res.removeHeader('content-type');
      res.writeHead(b.status).end();
      return;
    }
    const body = b.body === undefined ? defaultStatusBody(b.status) : typeof b.body === 'string' ? b.body : JSON.stringify(b.body);
    if (!res.hasHeader('content-length')) res.setHeader('content-length', Buffer.byteLength(body));
    res.writeHead(b.status).end(body);
  }

  /** The normal answer: auth, routing, validation, then the endpoint. */
  private answer(ctx: Ctx): void {
    if (this.authHeader !== undefined) {
      const got = ctx.req.headers.authorization;
      if (got !== this.authHeader) {
        return got === undefined ? this.sendError(ctx, 401, MISSING_KEY_MESSAGE) : this.sendError(ctx, 401, WRONG_KEY_MESSAGE, null, 'invalid_api_key');
      }
    }
    const method = ctx.req.method;
    if (method === 'POST') {
      const path = ctx.path;
      if (path === '/v1/chat/completions' || path === '/v1/completions' || path === '/v1/embeddings') {
        if (ctx.bodyInvalid || !isPlainObject(ctx.body)) return this.sendError(ctx, 400, BAD_JSON_MESSAGE);
        const model = ctx.body.model;
        if (typeof model !== 'string' || model.length === 0) {
          return this.sendError(ctx, 400, 'you must provide a model parameter');
        }
        if (path === '/v1/chat/completions') return this.chat(ctx, ctx.body, model);
        if (path === '/v1/completions') return this.completions(ctx, ctx.body, model);
        return this.embeddings(ctx, ctx.body, model);
      }
    } else if (method === 'GET' && ctx.path === '/v1/models') {
      return this.sendJson(ctx, 200, MODELS_JSON);
    }
    this.sendError(ctx, 404, `Invalid URL (${method} ${ctx.path})`);
  }

  private replyFor(limit: number | undefined): Reply {
    if (limit === undefined || limit >= this.reply.words) return this.reply;
    let r = this.truncated.get(limit);
    if (r === undefined) {
      r = makeReply(firstWords(this.reply.text, limit), this.chunkCount);
      this.truncated.set(limit, r);
    }
    return r;
  }

  private chat(ctx: Ctx, body: Record<string, any>, model: string): void {
    if (!Array.isArray(body.messages)) {
      return this.sendError(ctx, 400, "Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
    }
    const promptTokens = countMessageWords(body.messages);
    const reply = this.replyFor(tokenLimit(body.max_completion_tokens, body.max_tokens));
    const finish = reply === this.reply ? 'stop' : 'length';
    const usage = usageJson(promptTokens, reply.words);
    if (body.stream === true) {
      const withUsage = isPlainObject(body.stream_options) && body.stream_options.include_usage === true;
      return this.stream(ctx, false, model, reply, finish, withUsage ? usage : undefined, undefined);
    }
    const id = `chatcmpl-${this.nextId()}`;
    this.sendJson(
      ctx,
      200,
      `{"id":"${id}","object":"chat.completion","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},` +
        `"choices":[{"index":0,"message":{"role":"assistant","content":${reply.json},"refusal":null},"logprobs":null,"finish_reason":"${finish}"}],` +
        `"usage":${usage},"system_fingerprint":"${this.fingerprint}"}`,
    );
  }

  private completions(ctx: Ctx, body: Record<string, any>, model: string): void {
    const promptTokens = countPromptTokens(body.prompt);
    const reply = this.replyFor(tokenLimit(body.max_tokens));
    const finish = reply === this.reply ? 'stop' : 'length';
    const usage = usageJson(promptTokens, reply.words);
    if (body.stream === true) {
      const withUsage = isPlainObject(body.stream_options) && body.stream_options.include_usage === true;
      return this.stream(ctx, true, model, reply, finish, withUsage ? usage : undefined, undefined);
    }
    const id = `cmpl-${this.nextId()}`;
    this.sendJson(
      ctx,
      200,
      `{"id":"${id}","object":"text_completion","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},` +
        `"choices":[{"index":0,"text":${reply.json},"logprobs":null,"finish_reason":"${finish}"}],` +
        `"usage":${usage},"system_fingerprint":"${this.fingerprint}"}`,
    );
  }

  private embeddings(ctx: Ctx, body: Record<string, any>, model: string): void {
    const inputs = embeddingInputs(body.input);
    if (inputs === undefined) {
      return this.sendError(
        ctx,
        400,
        "'$.input' is invalid. Expected a string, an array of strings, an array of tokens or an array of token arrays.",
        'input',
      );
    }
    const dims = body.dimensions === undefined ? 8 : body.dimensions;
    if (!(Number.isInteger(dims) && dims >= 1 && dims <= MAX_DIMENSIONS)) {
      return this.sendError(ctx, 400, `Invalid 'dimensions': must be an integer in 1..${MAX_DIMENSIONS}.`, 'dimensions');
    }
    const format = body.encoding_format;
    if (format !== undefined && format !== 'float' && format !== 'base64') {
      return this.sendError(ctx, 400, "Invalid 'encoding_format': expected 'float' or 'base64'.", 'encoding_format');
    }
    let tokens = 0;
    const data = inputs.map((input, index) => {
      tokens += input.tokens;
      const v = embedVector(input.key, dims);
      return { object: 'embedding', index, embedding: format === 'base64' ? float32Base64(v) : v };
    });
    this.sendJson(ctx, 200, JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
  }

  /**
   * A 200 SSE answer. Without a fault: (chat) role chunk, content chunks, finish chunk, optional
   * usage chunk, [DONE]. With a fault: (chat) role chunk, `afterChunks` content chunks, then the fault.
   */
  private stream(
    ctx: Ctx,
    legacy: boolean,
    model: unknown,
    reply: Reply,
    finish: string | undefined,
    usage: string | undefined,
    fault: StreamFault | undefined,
  ): void {
    const res = ctx.res;
    const seq = this.nextId();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_${seq}`,
    });
    const common =
      `{"id":"${legacy ? 'cmpl-' : 'chatcmpl-'}${seq}","object":"${legacy ? 'text_completion' : 'chat.completion.chunk'}",` +
      `"created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(typeof model === 'string' ? model : FALLBACK_MODEL)},` +
      `"system_fingerprint":"${this.fingerprint}",`;
    const head = `data: ${common}"choices":[{"index":0,${legacy ? '"text":' : '"delta":'}`;
    const tail = ',"logprobs":null,"finish_reason":null}],"usage":null}\n\n';
    const pieces = legacy ? reply.texts : reply.deltas;
    const n = fault === undefined ? pieces.length : Math.min(fault.afterChunks, pieces.length);
    let frames = 0;
    if (!legacy) {
      writeFrame(res, head + ROLE_DELTA + tail);
      frames++;
    }
    for (let i = 0; i < n; i++) {
      writeFrame(res, head + pieces[i] + tail);
      frames++;
    }
    if (fault === undefined) {
      writeFrame(res, `${head}${legacy ? '""' : '{}'},"logprobs":null,"finish_reason":"${finish ?? 'stop'}"}],"usage":null}\n\n`);
      if (usage !== undefined) writeFrame(res, `data: ${common}"choices":[],"usage":${usage}}\n\n`);
      res.end(DONE_FRAME);
      return;
    }
    switch (fault.kind) {
      case 'stream-cut': {
        ctx.selfClosed = true;
        if (frames === 0) res.flushHeaders();
        const socket = res.socket;
        // end() first so the frames already written reach the client, then drop the connection.
        if (socket !== null) socket.end(() => socket.destroy());
        return;
      }
      case 'stream-error':
        res.end(`data: ${JSON.stringify({ error: fault.error === undefined ? DEFAULT_STREAM_ERROR : fault.error })}\n\n`);
        return;
      case 'stream-stall':
        if (frames === 0) res.flushHeaders();
        this.stalled.add(ctx);
        return;
      case 'malformed-sse':
        res.end(MALFORMED_SSE_FRAME);
        return;
    }
  }
}
