import type { GatewayResponse, RequestContext, SSEEvent } from '@waygate/core';
import { principalOf } from '@waygate/auth';
import { CATEGORIES, mapRequestTexts, mapResponseTexts, redact, rulesFor, scan } from '@waygate/guardrail-pii';
import type { Category } from '@waygate/guardrail-pii';

/** One request as the log keeps it. */
export interface LogEntry {
  id: string;
  at: string;
  key_id: string | null;
  key_name: string | null;
  team: string | null;
  endpoint: string;
  method: string;
  path: string;
  provider: string | null;
  model: string | null;
  target_path: string | null;
  status: number;
  outcome: string;
  stream: boolean;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  cost_usd: number | null;
  total_ms: number;
  upstream_ms: number;
  ttft_ms: number | null;
  retries: number;
  cache: string | null;
  guardrails: string | null;
  error: string | null;
  detail: Record<string, unknown> | null;
  request_body: unknown;
  response_body: unknown;
}

/** The columns, in the order `row()` gives the values. */
export const COLUMNS = [
  'id',
  'at',
  'key_id',
  'key_name',
  'team',
  'endpoint',
  'method',
  'path',
  'provider',
  'model',
  'target_path',
  'status',
  'outcome',
  'stream',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cost_usd',
  'total_ms',
  'upstream_ms',
  'ttft_ms',
  'retries',
  'cache',
  'guardrails',
  'error',
  'detail',
  'request_body',
  'response_body',
] as const satisfies readonly (keyof LogEntry)[];

/** What a request came to: the same words as the Prometheus metrics' `outcome` label. */
export function outcomeOf(res: GatewayResponse, ctx: RequestContext): string {
  if (ctx.streamError) return 'stream_error';
  if (res.source === 'cache') return 'cached';
  if (res.status === 401 || res.status === 403) return 'denied';
  if (res.status === 429) return 'rate_limited';
  if (res.status === 446 || res.source === 'guardrail' || ctx.annotations?.guardrailsDeniedAt !== undefined) return 'guardrail_denied';
  if (res.status >= 400) return 'error';
  if (ctx.targetIndex > 0) return 'fell_back';
  if (ctx.totalRetries > 0) return 'retried';
  return 'success';
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const ms = (v: number) => Math.round(v * 1000) / 1000;

let isoSecond = NaN;
let isoPrefix = '';
/**
 * `new Date(t).toISOString()`, its text up to the second kept from the last call: the requests of one
 * second only append their milliseconds (a Date and its formatting cost more than the rest of a row).
 */
export function isoTime(t: number): string {
  const second = Math.floor(t / 1000);
  if (second !== isoSecond || !Number.isInteger(t)) {
    if (!Number.isInteger(t)) return new Date(t).toISOString();
    isoPrefix = new Date(second * 1000).toISOString().slice(0, -4);
    isoSecond = second;
  }
  const milli = t - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Annotations worth keeping beside the columns (never a secret: annotations are what log lines carry). */
const DETAIL_FIELDS = ['guardrailsFailed', 'guardrailsDeniedAt', 'tokensEstimated', 'priceUnknown', 'rateLimited', 'cache_similarity', 'keyMetadata'];

/** The entry for a request whose answer is complete (a JSON answer, or a stream at its end). */
export function entryOf(res: GatewayResponse, ctx: RequestContext, endedAt: number, firstEventAt: number | undefined): LogEntry {
  const p = principalOf(ctx);
  const a = ctx.annotations ?? {};
  // The target that answered, a cached answer stands for, or was tried last before an error.
  const upstream = res.source === 'upstream' || res.source === 'cache' || ctx.attempts.length > 0;
  const u = ctx.usage;
  const detail: Record<string, unknown> = {};
  for (const f of DETAIL_FIELDS) if (a[f] !== undefined) detail[f] = a[f];
  if (ctx.attempts.length) detail.attempts = ctx.attempts.map((t) => ({ target: t.target, provider: t.provider, status: t.status ?? null, ms: ms(t.ms) }));
  const error = ctx.streamError?.message ?? (res.status >= 400 ? (ctx.lastError?.message ?? errorMessage(res)) : null);
  return {
    id: ctx.id,
    at: isoTime(ctx.startedAt),
    key_id: p?.keyId ?? str(a.keyId),
    key_name: p?.name ?? str(a.keyName),
    team: p?.team?.id ?? str(a.team),
    endpoint: ctx.endpoint,
    method: ctx.method,
    path: ctx.path,
    provider: upstream ? (ctx.target?.provider ?? null) : null,
    model: ctx.model ?? null,
    target_path: upstream ? (ctx.target?.path ?? null) : null,
    status: res.status,
    outcome: outcomeOf(res, ctx),
    stream: res.stream !== undefined,
    input_tokens: num(u?.prompt_tokens),
    output_tokens: num(u?.completion_tokens),
    cached_tokens: num(u?.prompt_tokens_details?.cached_tokens),
    cost_usd: num(a.costUsd),
    total_ms: ms(endedAt - ctx.t0),
    upstream_ms: ms(ctx.upstreamMs),
    ttft_ms: firstEventAt === undefined ? null : ms(firstEventAt - ctx.t0),
    retries: ctx.totalRetries,
    cache: str(a.cache),
    guardrails: str(a.guardrails),
    error,
    detail: Object.keys(detail).length ? detail : null,
    request_body: null,
    response_body: null,
  };
}

function errorMessage(res: GatewayResponse): string | null {
  try {
    const b = res.body as { error?: { message?: unknown } | string } | undefined;
    if (typeof b?.error === 'string') return b.error;
    return str(b?.error?.message);
  } catch {
    return null;
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Bodies as the log keeps them (opt-in): every text a request or answer carries passed through the
 * PII engine of `@waygate/guardrail-pii` (emails, phone numbers, cards, keys and the other kinds masked
 * as `[REDACTED_<KIND>]`), and cut to `maxBytes` of JSON (then kept as `{ truncated: true, text }`).
 */
export class BodyRedactor {
  readonly #rules;
  constructor(
    categories: readonly Category[] | undefined,
    readonly maxBytes: number,
  ) {
    this.#rules = rulesFor(categories ?? CATEGORIES);
  }

  text = (t: string): string => {
    const found = scan(t, this.#rules);
    return found.length ? redact(t, found, (kind) => `[REDACTED_${kind}]`) : t;
  };

  #bounded(v: unknown): unknown {
    const text = JSON.stringify(v);
    if (text === undefined) return null;
    if (Buffer.byteLength(text) <= this.maxBytes) return v;
    return { truncated: true, text: Buffer.from(text).subarray(0, this.maxBytes).toString('utf8') };
  }

  request(ctx: RequestContext): unknown {
    const body = ctx.body;
    if (!isObject(body)) return null;
    return this.#bounded(mapRequestTexts(body, this.text));
  }

  response(res: GatewayResponse): unknown {
    let body: unknown;
    try {
      body = res.body;
    } catch {
      return null;
    }
    if (!isObject(body)) return null;
    return this.#bounded(mapResponseTexts(body, this.text));
  }

  /** A streamed answer: the text its events carried (OpenAI's and Anthropic's deltas), redacted. */
  streamed(text: string, truncated: boolean): unknown {
    return { stream: true, text: this.text(text), ...(truncated && { truncated: true }) };
  }
}

/** The text one SSE event carries: OpenAI's `choices[].delta.content`, Anthropic's `delta.text`. */
export function eventText(e: SSEEvent): string {
  const data = (e as { data?: unknown }).data;
  if (typeof data !== 'string' || data === '[DONE]' || data[0] !== '{') return '';
  let j: unknown;
  try {
    j = JSON.parse(data);
  } catch {
    return '';
  }
  if (!isObject(j)) return '';
  let out = '';
  if (Array.isArray(j.choices)) {
    for (const c of j.choices) {
      const content = isObject(c) && isObject(c.delta) ? c.delta.content : undefined;
      if (typeof content === 'string') out += content;
    }
  }
  if (isObject(j.delta) && typeof j.delta.text === 'string') out += j.delta.text;
  return out;
}
