import crypto from 'node:crypto';
import { AfterResponseStage, BeforeRequestStage, DONE, GatewayResponse } from '@waygate/core';
import type { CacheConfig, ConfigNode, EndpointDefinition, PlannedTarget, PluginApi, RequestContext, SSEEvent, Target } from '@waygate/core';

/**
 * The shared cache library: what every response-cache plugin (`@waygate/cache-memory`,
 * `@waygate/cache-redis`, `@waygate/cache-semantic`) needs and must agree on. The policy a target is
 * under (Portkey's `cache: { mode, max_age }`, inherited down the routing tree), the request headers
 * (force refresh, namespace), the status header, the exact key, and the two halves of caching a model
 * answer: recording one as it passes (streams included, without holding anything back from the client)
 * and replaying one in the form the request wants (JSON or SSE, whichever form it was stored in).
 *
 * `tapExactCache(api, backend)` is the whole exact cache on top of a key-value backend: a backend
 * plugin implements `get`/`set` and calls it in setup().
 */

export type CacheStatus = 'HIT' | 'MISS' | 'REFRESH' | 'DISABLED' | 'SEMANTIC HIT' | 'SEMANTIC MISS';

/** One stored answer: JSON (`body`) or a recorded stream (`events`), never both needed: either replays as the other. */
export interface CachedAnswer {
  /** The endpoint it answered (`chat.completions`, `messages`, ...). */
  endpoint: string;
  status: number;
  /** Response headers replayed with it (none by default: upstream headers are per call, e.g. rate limits). */
  headers: Record<string, string>;
  body?: unknown;
  /**
   * The body's JSON text, when a backend has it (entries it decoded): a JSON replay writes it as it
   * is, without parsing and serializing the body again.
   */
  bodyJson?: string;
  events?: SSEEvent[];
  /** Wall-clock ms since the epoch when it was stored. */
  storedAt: number;
}

/** A target's cache policy: its (inherited) `cache` config with `max_age` in milliseconds. */
export interface CachePolicy {
  mode: 'simple' | 'semantic';
  maxAgeMs: number;
}

/** Portkey's default time to live: 24 hours. */
export const DEFAULT_MAX_AGE_MS = 86_400_000;

/** The response headers that carry the cache status. */
export const CACHE_STATUS_HEADER = 'x-waygate-cache-status';
export const PORTKEY_CACHE_STATUS_HEADER = 'x-portkey-cache-status';

const policies = new WeakMap<CacheConfig, CachePolicy | null>();

/**
 * The cache config that applies to a target (its node's inherited `cache`), with max_age normalised
 * to ms; undefined when none. `max_age` is in milliseconds, as Portkey's open-source gateway reads it
 * (its hosted docs say seconds); absent, it is 24 hours.
 */
export function cachePolicy(target: Target): CachePolicy | undefined {
  const c = target.node.cache;
  if (!c || typeof c !== 'object') return undefined;
  let p = policies.get(c);
  if (p === undefined) {
    const valid = c.mode === 'simple' || c.mode === 'semantic';
    const age = c.max_age;
    const maxAgeMs = typeof age === 'number' && Number.isFinite(age) && age > 0 ? Math.ceil(age) : DEFAULT_MAX_AGE_MS;
    p = valid ? { mode: c.mode, maxAgeMs } : null;
    policies.set(c, p);
  }
  return p ?? undefined;
}

/** A request header in Waygate's name or Portkey's. */
function header(ctx: RequestContext, name: string, portkey: string): string | undefined {
  const v = ctx.headers[name] ?? ctx.headers[portkey];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Whether the request asked to skip the lookup (`x-waygate-cache-force-refresh` /
 * `x-portkey-cache-force-refresh`). Any value asks for it except `false` and `0`, which SDKs send
 * when the option is explicitly off.
 */
export function forceRefresh(ctx: RequestContext): boolean {
  const v = header(ctx, 'x-waygate-cache-force-refresh', 'x-portkey-cache-force-refresh');
  if (v === undefined) return false;
  const s = v.trim().toLowerCase();
  return s !== 'false' && s !== '0';
}

/** The optional namespace header (`x-waygate-cache-namespace` / `x-portkey-cache-namespace`), '' when absent. */
export function cacheNamespace(ctx: RequestContext): string {
  return header(ctx, 'x-waygate-cache-namespace', 'x-portkey-cache-namespace')?.trim() ?? '';
}

/**
 * Sets `x-waygate-cache-status` (and `x-portkey-cache-status` in the Portkey dialect) on
 * ctx.responseHeaders, and adds `cache` to the request's log line (every status but DISABLED).
 */
export function setCacheStatus(ctx: RequestContext, status: CacheStatus): void {
  ctx.responseHeaders[CACHE_STATUS_HEADER] = status;
  if (ctx.dialect === 'portkey') ctx.responseHeaders[PORTKEY_CACHE_STATUS_HEADER] = status;
  if (status !== 'DISABLED') ctx.annotate('cache', status);
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * Config-node keys that never change an answer (routing and resilience policy), or that are hashed
 * elsewhere (`provider`, `api_key`, `custom_host` as the base URL, `override_params` in the body).
 * Every other key of a target's node (provider options such as `resource_name`, `aws_region`,
 * `vertex_project_id`, guardrail settings) is part of the target's identity.
 */
const NON_ANSWER_KEYS = new Set([
  'provider',
  'api_key',
  'custom_host',
  'override_params',
  'strategy',
  'targets',
  'name',
  'weight',
  'retry',
  'cache',
  'request_timeout',
  'stream_idle_timeout',
  'deadline',
  'forward_headers',
  'on_status_codes',
]);

/**
 * Request headers that carry credentials or options providers read (in Waygate's `x-waygate-` and
 * Portkey's `x-portkey-` names): two callers who differ in any of them never share an entry.
 */
const CREDENTIAL_HEADER_SUFFIXES = [
  'aws-access-key-id',
  'aws-secret-access-key',
  'aws-session-token',
  'aws-region',
  'azure-resource-name',
  'azure-deployment-id',
  'azure-api-version',
  'azure-ad-token',
  'vertex-project-id',
  'vertex-region',
  'vertex-service-account-json',
  'openai-organization',
  'openai-project',
  'openai-beta',
  'anthropic-version',
  'anthropic-beta',
  'cohere-input-type',
];
const CREDENTIAL_HEADERS: ReadonlyArray<readonly [string, string]> = CREDENTIAL_HEADER_SUFFIXES.map((s) => [`x-waygate-${s}`, `x-portkey-${s}`] as const);

/**
 * Top-level request fields left out of the exact key because they do not change the answer:
 * `stream` and `stream_options` (a stored answer replays in either form), `user`,
 * `safety_identifier` and `metadata` (who asks, for the provider's abuse tracking or logs), `store`
 * (whether OpenAI keeps a copy) and `prompt_cache_key` (a hint for the provider's own prompt cache).
 */
export const KEY_IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'stream',
  'stream_options',
  'user',
  'safety_identifier',
  'metadata',
  'store',
  'prompt_cache_key',
]);

/** One array or object being written by canonicalJson: its values in order (an object's with their keys), and how far it got. */
interface Open {
  values: unknown[];
  keys: string[] | undefined;
  next: number;
}

/**
 * JSON with object keys sorted at every depth (undefined members dropped, as JSON.stringify does).
 * Iterative, with a stack of its own: a value nested however deep (a request body, a model's tool
 * arguments) cannot overflow the call stack.
 */
export function canonicalJson(value: unknown): string {
  let out = '';
  const open: Open[] = [];
  for (let v = value; ;) {
    if (v === null || typeof v !== 'object') {
      const s = JSON.stringify(v);
      out += s === undefined ? 'null' : s;
    } else if (Array.isArray(v)) {
      out += '[';
      open.push({ values: v, keys: undefined, next: 0 });
    } else {
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj)
        .sort()
        .filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function');
      out += '{';
      open.push({ values: keys.map((k) => obj[k]), keys, next: 0 });
    }
    // The next value to write, closing what is complete on the way.
    for (;;) {
      const top = open[open.length - 1];
      if (top === undefined) return out;
      if (top.next < top.values.length) {
        if (top.next) out += ',';
        if (top.keys) out += JSON.stringify(top.keys[top.next]) + ':';
        v = top.values[top.next++];
        break;
      }
      out += top.keys ? '}' : ']';
      open.pop();
    }
  }
}

/** The request as the exact key sees it: the body with sorted keys and without KEY_IGNORED_FIELDS. */
export function canonicalRequest(body: Record<string, unknown> | undefined): string {
  if (!body) return '';
  const keys = Object.keys(body).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = body[k];
    if (KEY_IGNORED_FIELDS.has(k) || v === undefined || typeof v === 'function') continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return out + '}';
}

/** Hex SHA-256 of a string: the one-shot `crypto.hash` where Node has it (no Hash object per call). */
const sha256hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * What identifies a target for the cache, in one string (hashed, never stored or logged): provider,
 * base URL, the model as sent, the api key, the node's provider options, the credential headers and
 * the values of forwarded headers.
 */
function identityMaterial(ctx: RequestContext, target: Target): string {
  const node = target.node;
  const model = node.override_params?.model ?? ctx.body?.model;
  let m = `${target.provider}\u0000${target.baseURL ?? ''}\u0000${typeof model === 'string' ? model : canonicalJson(model)}\u0000${target.apiKey ?? ''}\u0000`;
  let keys: string[] | undefined;
  for (const k in node) if (!NON_ANSWER_KEYS.has(k) && node[k] !== undefined) (keys ??= []).push(k);
  if (keys) {
    keys.sort();
    for (const k of keys) m += `${k}=${canonicalJson(node[k])}\u0000`;
  }
  const hs = ctx.headers;
  for (const [own, portkey] of CREDENTIAL_HEADERS) {
    const v = hs[own] ?? hs[portkey];
    if (v !== undefined) m += `${own}=${String(v)}\u0000`;
  }
  const forwarded = ctx.forwardHeaders ?? node.forward_headers;
  if (forwarded) {
    for (const name of forwarded) {
      const v = hs[name.toLowerCase()];
      if (v !== undefined) m += `fwd:${name.toLowerCase()}=${String(v)}\u0000`;
    }
  }
  return m;
}

/**
 * Hex SHA-256 identity of the target: provider, base URL, the model as sent (override_params
 * applied), and the credentials: the api key, the node's provider options (every key but routing
 * policy), the credential headers (AWS, Azure, Vertex, OpenAI organization/project, ...) and the
 * values of forwarded headers, so two tenants never share.
 */
export function targetIdentity(ctx: RequestContext, target: Target): string {
  return sha256hex(identityMaterial(ctx, target));
}

/**
 * The exact key (hex SHA-256): endpoint + namespace + the target's identity + the canonical request
 * (the body with the target's override_params applied, keys sorted, KEY_IGNORED_FIELDS removed).
 * One hash over all of it (the identity's material included, so it is not hashed twice).
 */
export function exactKey(ctx: RequestContext, target: Target): string {
  const overrides = target.node.override_params;
  const body = overrides && ctx.body ? { ...ctx.body, ...overrides } : ctx.body;
  return sha256hex(
    `waygate-cache-v1\u0000${ctx.endpoint}\u0000${cacheNamespace(ctx)}\u0000${identityMaterial(ctx, target)}\u0000${canonicalRequest(body)}`,
  );
}

const CACHEABLE = new Set(['chat.completions', 'completions', 'embeddings', 'messages']);

/** Whether this endpoint's answers are cacheable at all (chat.completions, completions, embeddings, messages; not models, not count_tokens). */
export function cacheableEndpoint(endpoint: string): boolean {
  return CACHEABLE.has(endpoint);
}

const hasCache = new WeakMap<ConfigNode, boolean>();

/** Whether a routing config sets `cache` anywhere (memoized per node object: configs are shared). */
export function configUsesCache(node: ConfigNode): boolean {
  // A leaf needs no memo (and one the core builds per request would add a WeakMap entry each time).
  if (!node.targets) return node.cache !== undefined;
  let v = hasCache.get(node);
  if (v === undefined) {
    v = node.cache !== undefined || (node.targets?.some(configUsesCache) ?? false);
    hasCache.set(node, v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Replay

/** OpenAI's stream formats, where a usage chunk is only sent when `stream_options.include_usage` asks for it. */
const OPENAI_STREAMS = new Set(['chat.completions', 'completions']);

function usageOnlyChunk(ev: SSEEvent): boolean {
  const d = ev.data;
  if (d === DONE || d.indexOf('"choices":[]') === -1 || d.indexOf('"usage"') === -1) return false;
  try {
    const j = JSON.parse(d) as { choices?: unknown[]; usage?: unknown };
    return Array.isArray(j.choices) && j.choices.length === 0 && !!j.usage;
  } catch {
    return false;
  }
}

/** Whether `replay` can answer this request from this entry (the endpoint has the codec a conversion needs). */
export function canReplay(ctx: RequestContext, entry: CachedAnswer, def: EndpointDefinition | undefined): boolean {
  if (entry.endpoint !== ctx.endpoint) return false;
  const hasBody = entry.bodyJson !== undefined || entry.body !== undefined;
  if (ctx.stream && def?.stream) return entry.events !== undefined || (hasBody && def.codec !== undefined);
  return hasBody || (entry.events !== undefined && def?.codec !== undefined);
}

async function* replayEvents(events: readonly SSEEvent[]): AsyncGenerator<SSEEvent> {
  for (let i = 0; i < events.length; i++) yield events[i]!;
}

/**
 * A response from a stored answer, in the form the request wants: JSON, or SSE replayed event by
 * event (a JSON entry turned into events with the endpoint's codec, a stream entry turned into JSON
 * with codec.fromEvents). source = 'cache'. For OpenAI's formats, a usage-only chunk is left out
 * of a replayed stream unless the request set `stream_options.include_usage`.
 * Throws when the conversion needs a codec the endpoint lacks (check with `canReplay` first).
 */
export function replay(ctx: RequestContext, entry: CachedAnswer, def: EndpointDefinition | undefined): GatewayResponse {
  const headers = { ...entry.headers };
  if (ctx.stream && def?.stream) {
    let events = entry.events;
    if (!events) {
      const body = entry.body ?? (entry.bodyJson !== undefined ? JSON.parse(entry.bodyJson) : undefined);
      if (body === undefined || !def.codec) throw new Error(`a cached ${entry.endpoint} answer cannot be replayed as a stream`);
      events = def.codec.toEvents(body);
    }
    if (OPENAI_STREAMS.has(ctx.endpoint)) {
      const opts = ctx.body?.stream_options as { include_usage?: unknown } | undefined;
      if (opts?.include_usage !== true) events = events.filter((ev) => !usageOnlyChunk(ev));
    }
    headers['cache-control'] = 'no-cache';
    return GatewayResponse.sse(entry.status, replayEvents(events), headers, 'cache');
  }
  if (entry.bodyJson !== undefined) return GatewayResponse.raw(entry.status, Buffer.from(entry.bodyJson), headers, 'cache');
  let body = entry.body;
  if (body === undefined) {
    if (!entry.events || !def?.codec) throw new Error(`a cached ${entry.endpoint} stream cannot be replayed as JSON`);
    body = def.codec.fromEvents(entry.events);
  }
  return GatewayResponse.json(entry.status, body, headers, 'cache');
}

// ---------------------------------------------------------------------------------------------
// Recording

export interface RecordOptions {
  /** Stop recording a stream (it still reaches the client) once its events' data exceed this many characters. */
  maxBytes?: number;
  /** The request's endpoint definition (how its streams end and fail); `api.endpointOf(ctx)`. */
  definition?: EndpointDefinition;
}

/** Statuses output guardrails give an answer that failed a check (Portkey's 246 and 446). */
const GUARDRAIL_FAILED = new Set([246, 446]);

/** Whether an answer may be stored: a 2xx straight from an upstream, not marked failed by a guardrail. */
export function storable(res: GatewayResponse): boolean {
  return res.source === 'upstream' && res.status >= 200 && res.status < 300 && !GUARDRAIL_FAILED.has(res.status);
}

/**
 * Observes a successful upstream answer and calls `store(entry)` once it is complete: at once for
 * JSON; for streams, wraps res.stream so events are recorded as they pass (no delay, nothing buffered
 * ahead of the client) and store() runs only if the stream ended properly (its end event seen, no
 * error event, no ctx.streamError, not aborted). Returns the (possibly wrapped) response. Only 2xx
 * upstream answers (res.source === 'upstream'), never errors, never answers marked by guardrails as
 * failed (status 246/446). What `store` throws is swallowed: a cache never fails a request.
 */
export function recordAnswer(ctx: RequestContext, res: GatewayResponse, store: (entry: CachedAnswer) => void, opts: RecordOptions = {}): GatewayResponse {
  if (!storable(res)) return res;
  const save = (entry: CachedAnswer) => {
    try {
      store(entry);
    } catch {
      /* the backend reports its own failures */
    }
  };
  if (!res.stream) {
    let body: unknown;
    try {
      body = res.body;
    } catch {
      return res;
    }
    if (body !== undefined) save({ endpoint: ctx.endpoint, status: res.status, headers: {}, body, storedAt: Date.now() });
    return res;
  }
  const format = opts.definition?.stream;
  const provider = ctx.target?.provider ?? '';
  const limit = opts.maxBytes ?? Infinity;
  const source = res.stream;
  const status = res.status;
  async function* recorded(): AsyncGenerator<SSEEvent> {
    const events: SSEEvent[] = [];
    let size = 0;
    let keep = true;
    let sawEnd = format === undefined;
    let completed = false;
    try {
      for await (const ev of source) {
        if (keep) {
          size += ev.data.length;
          if (size > limit) {
            keep = false;
            events.length = 0;
          } else if (format && format.errorOf(ev, provider)) keep = false;
          else {
            if (format && format.isEnd(ev)) sawEnd = true;
            events.push(ev);
          }
        }
        yield ev;
      }
      completed = true;
    } finally {
      if (completed && keep && sawEnd && events.length > 0 && !ctx.streamError && !ctx.aborted) {
        save({ endpoint: ctx.endpoint, status, headers: {}, events, storedAt: Date.now() });
      }
    }
  }
  res.stream = recorded();
  return res;
}

// ---------------------------------------------------------------------------------------------
// Serialization

/**
 * A compact text form of an entry for backends that store strings (Redis) or count bytes (memory).
 * The first line is the metadata, `{"v":1,"p":endpoint,"s":status,"t":storedAt,"h":{...}?,"k":"b"|"e"|"be"}`;
 * then the body's JSON on one line (`k` has `b`), then the events as `[[data, event?, id?], ...]` on
 * one line (`k` has `e`). JSON text never holds a raw line break, so the lines split cleanly, and a
 * JSON replay can write the body's line as it is, without parsing it.
 */
export function encodeAnswer(entry: CachedAnswer): string {
  const hasBody = entry.bodyJson !== undefined || entry.body !== undefined;
  const k = (hasBody ? 'b' : '') + (entry.events ? 'e' : '');
  const meta: Record<string, unknown> = { v: 1, p: entry.endpoint, s: entry.status, t: entry.storedAt };
  for (const _ in entry.headers) {
    meta.h = entry.headers;
    break;
  }
  meta.k = k;
  let out = JSON.stringify(meta);
  if (hasBody) out += '\n' + (entry.bodyJson ?? JSON.stringify(entry.body));
  if (entry.events) {
    out +=
      '\n' +
      JSON.stringify(
        entry.events.map((ev) => (ev.id !== undefined ? [ev.data, ev.event ?? null, ev.id] : ev.event !== undefined ? [ev.data, ev.event] : [ev.data])),
      );
  }
  return out;
}

/**
 * The entry `encodeAnswer` wrote, or undefined for text that is not one (corrupt, another version).
 * Its `body` is parsed on first read; `bodyJson` is the body's text (cleared if `body` is replaced).
 */
export function decodeAnswer(text: string): CachedAnswer | undefined {
  const nl = text.indexOf('\n');
  if (nl === -1) return undefined;
  let meta: { v?: unknown; p?: unknown; s?: unknown; t?: unknown; h?: unknown; k?: unknown };
  try {
    meta = JSON.parse(text.slice(0, nl));
  } catch {
    return undefined;
  }
  if (!meta || meta.v !== 1 || typeof meta.p !== 'string' || typeof meta.s !== 'number' || typeof meta.t !== 'number') return undefined;
  if (meta.k !== 'b' && meta.k !== 'e' && meta.k !== 'be') return undefined;
  const headers = meta.h && typeof meta.h === 'object' ? (meta.h as Record<string, string>) : {};
  let entry: CachedAnswer;
  let rest = text.slice(nl + 1);
  if (meta.k === 'e') entry = { endpoint: meta.p, status: meta.s, headers, storedAt: meta.t };
  else {
    const end = meta.k === 'be' ? rest.indexOf('\n') : rest.length;
    if (end <= 0) return undefined;
    const bodyJson = rest.slice(0, end);
    rest = rest.slice(end + 1);
    let parsed: { value: unknown } | undefined;
    entry = {
      endpoint: meta.p,
      status: meta.s,
      headers,
      storedAt: meta.t,
      bodyJson,
      // Parsed on first read: a JSON replay writes bodyJson and never needs it.
      get body(): unknown {
        parsed ??= { value: JSON.parse(bodyJson) };
        return parsed.value;
      },
      set body(value: unknown) {
        parsed = { value };
        this.bodyJson = undefined;
      },
    };
  }
  if (meta.k !== 'b') {
    let tuples: unknown;
    try {
      tuples = JSON.parse(rest);
    } catch {
      return undefined;
    }
    if (!Array.isArray(tuples)) return undefined;
    const events: SSEEvent[] = [];
    for (const t of tuples as unknown[]) {
      if (!Array.isArray(t) || typeof t[0] !== 'string') return undefined;
      const ev: SSEEvent = { data: t[0] };
      if (typeof t[1] === 'string') ev.event = t[1];
      if (typeof t[2] === 'string') ev.id = t[2];
      events.push(ev);
    }
    entry.events = events;
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------
// The exact cache, on any key-value backend

/** A key-value store for exact-cache entries; registered as `simple` in the `caches` registry. */
export interface ExactCacheBackend {
  /** The entry under a key, or undefined (absent, expired, or the store is unavailable). Never rejects for a miss. */
  get(key: string): Promise<CachedAnswer | undefined> | CachedAnswer | undefined;
  /** Stores an entry for ttlMs. Fire and forget: the response never waits for it. */
  set(key: string, entry: CachedAnswer, ttlMs: number): void | Promise<void>;
}

export interface ExactCacheOptions {
  /** Passed to recordAnswer: streams larger than this are not stored. */
  maxEntryBytes?: number;
}

interface ExactState {
  /** The key computed for each planned target during the lookup, reused to store. */
  keys: Map<PlannedTarget, string>;
  hit: boolean;
}

/**
 * The exact cache's taps, shared by every backend plugin. They act only while `backend` is the
 * registered `simple` cache (decided once the kernel is sealed, on the first request), so a plugin
 * that registers `simple` later (Redis over the default memory cache) takes over.
 *
 * - beforeRequest at CACHE_LOOKUP: DISABLED when no target of the request's plan has a cache policy
 *   (or the endpoint is not cacheable); nothing when only semantic policies apply (the semantic
 *   cache's business); REFRESH when the request forces a refresh (no lookup, the answer is stored);
 *   else looks up every planned target with a `simple` policy and answers from the first hit in plan
 *   order (HIT: ctx.target is set to that target, no upstream call, no tokens) or goes on (MISS).
 * - afterResponse at CACHE_STORE: stores a successful upstream answer under the key of the target
 *   that actually answered (`ctx.target`), if that target has a `simple` policy, for its max_age.
 */
export function tapExactCache(api: PluginApi, backend: ExactCacheBackend, opts: ExactCacheOptions = {}): void {
  const caches = api.registry<unknown>('caches');
  const slot = api.requestState<ExactState>();
  let active: boolean | undefined;
  const isActive = (): boolean => {
    if (active !== undefined) return active;
    const mine = caches.get('simple') === backend;
    if (api.sealed) active = mine;
    return mine;
  };

  // Undefined at once (no promise made) for a request whose config asks for no cache: most of them.
  api.hooks.beforeRequest.tapPromise(BeforeRequestStage.CACHE_LOOKUP, (ctx) => {
    if (!isActive()) return undefined;
    if (!cacheableEndpoint(ctx.endpoint) || !configUsesCache(ctx.config)) {
      setCacheStatus(ctx, 'DISABLED');
      return undefined;
    }
    return exactLookup(ctx);
  });
  const exactLookup = async (ctx: RequestContext): Promise<GatewayResponse | undefined> => {
    const plan = api.plan(ctx);
    let any = false;
    let simple = false;
    for (const t of plan.targets) {
      const p = cachePolicy(t);
      if (p) {
        any = true;
        if (p.mode === 'simple') simple = true;
      }
    }
    if (!any) {
      setCacheStatus(ctx, 'DISABLED');
      return undefined;
    }
    if (!simple) return undefined;
    const state: ExactState = { keys: new Map(), hit: false };
    slot.set(ctx, state);
    if (forceRefresh(ctx)) {
      setCacheStatus(ctx, 'REFRESH');
      return undefined;
    }
    // Every lookup starts at once (a remote backend answers them in parallel); the first hit in plan order wins.
    const lookups: Array<{ index: number; policy: CachePolicy; entry: Lookup }> = [];
    for (let i = 0; i < plan.targets.length; i++) {
      const target = plan.targets[i]!;
      const policy = cachePolicy(target);
      if (policy?.mode !== 'simple') continue;
      const key = exactKey(ctx, target);
      state.keys.set(target, key);
      lookups.push({ index: i, policy, entry: lookup(backend, key) });
    }
    const now = Date.now();
    const def = api.endpointOf(ctx);
    for (const l of lookups) {
      // A synchronous backend (memory) costs no promise.
      const entry = l.entry instanceof Promise ? await l.entry : l.entry;
      if (!entry || now - entry.storedAt > l.policy.maxAgeMs || !canReplay(ctx, entry, def)) continue;
      state.hit = true;
      ctx.attributeTo(plan.targets[l.index]!, l.index);
      setCacheStatus(ctx, 'HIT');
      return replay(ctx, entry, def);
    }
    setCacheStatus(ctx, 'MISS');
    return undefined;
  };

  api.hooks.afterResponse.tap(AfterResponseStage.CACHE_STORE, (res, ctx) => {
    const state = slot.get(ctx);
    if (!state || state.hit || !storable(res)) return res;
    const target = ctx.target;
    if (!target) return res;
    const policy = cachePolicy(target);
    if (policy?.mode !== 'simple') return res;
    const key = state.keys.get(target) ?? exactKey(ctx, target);
    return recordAnswer(
      ctx,
      res,
      (entry) => {
        const done = backend.set(key, entry, policy.maxAgeMs);
        if (done) done.catch(() => undefined);
      },
      { maxBytes: opts.maxEntryBytes, definition: api.endpointOf(ctx) },
    );
  });
}

type Lookup = CachedAnswer | undefined | Promise<CachedAnswer | undefined>;

/** A backend's answer for a key; whatever it throws or rejects with is a miss. */
function lookup(backend: ExactCacheBackend, key: string): Lookup {
  try {
    const r = backend.get(key);
    if (r && typeof (r as Promise<unknown>).then === 'function') return Promise.resolve(r).catch(() => undefined);
    return r as CachedAnswer | undefined;
  } catch {
    return undefined;
  }
}
