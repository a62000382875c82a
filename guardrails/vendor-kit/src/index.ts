/**
 * What Waygate's guardrail vendor packages share: calling a vendor's HTTP API through the gateway's
 * egress policy with a time limit, the parameters every vendor check has (`timeout`, credentials,
 * a base URL), and the text a check sends.
 *
 * The rules every vendor check keeps, and this kit makes the easy path:
 * - it calls out only with `input.egress.fetch` (a URL from a caller's config is checked by the
 *   addresses its host resolves to), never follows redirects, and aborts at `timeout` ms or when the
 *   request's signal aborts;
 * - it sends only the vendor's own credentials (from the check's parameters or the plugin's options),
 *   never the incoming request's headers;
 * - a vendor that cannot be reached, answers non-2xx, or answers something that is not the JSON it
 *   documents makes the check throw, so the guardrail fails closed (unless the config says
 *   `fail_on_error: false`).
 */
import { z } from 'zod';
import { GatewayError, checkCustomHost } from '@waygate/core';
import type { CheckInput } from '@waygate/guardrails';

export type Egress = CheckInput['egress'];

/** A vendor's answer was not what it documents, or did not come: the check fails (closed). */
export class VendorError extends Error {
  override name = 'VendorError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The most a vendor may answer (a verdict, scores, a redacted text). */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface VendorCall {
  /** Named in errors (`Azure AI Content Safety answered 503`). */
  vendor: string;
  url: string;
  method?: 'POST' | 'GET';
  /** The only headers sent (besides content-type for a body): the vendor's credentials, never the caller's. */
  headers?: Record<string, string>;
  /** JSON-encoded unless already a string. */
  body?: unknown;
  timeout: number;
}

/**
 * Calls a vendor and returns its JSON answer. Throws a VendorError (the check fails) on a refusal by
 * the egress policy, a network error, no answer within `timeout` ms, a non-2xx status (with the
 * vendor's error message, cut short), an answer over MAX_ANSWER_BYTES or one that is not JSON.
 */
export async function callVendor(input: Pick<CheckInput<unknown>, 'egress' | 'signal'>, call: VendorCall): Promise<unknown> {
  const limit = AbortSignal.timeout(call.timeout);
  const signal = AbortSignal.any([input.signal, limit]);
  const where = `${call.vendor} (${safeOrigin(call.url)})`;
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  let body: string | undefined;
  if (call.body !== undefined) {
    body = typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await input.egress.fetch(call.url, { method: call.method ?? 'POST', headers, body, redirect: 'manual', signal });
  } catch (err) {
    throw callFailure(err, where, call.timeout, limit, input.signal);
  }
  let text: string;
  try {
    text = await readBounded(res, where);
  } catch (err) {
    if (err instanceof VendorError) throw err;
    throw callFailure(err, where, call.timeout, limit, input.signal);
  }
  if (res.status < 200 || res.status > 299) {
    throw new VendorError(`${where} answered ${res.status}${vendorMessage(text)}`, res.status);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new VendorError(`${where} answered ${res.status} with a body that is not JSON`, res.status);
  }
}

function callFailure(err: unknown, where: string, timeout: number, limit: AbortSignal, signal: AbortSignal): VendorError {
  if (limit.aborted && !signal.aborted) return new VendorError(`${where} did not answer within ${timeout} ms`);
  if (signal.aborted) return new VendorError(`the call to ${where} was cancelled`);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof GatewayError) return new VendorError(`${where} was not called: ${cause.message}`);
  const c = cause as { code?: string; message?: string } | undefined;
  return new VendorError(`${where} could not be reached: ${c?.code ?? c?.message ?? (err as Error).message}`);
}

async function readBounded(res: Response, where: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    if ((size += chunk.length) > MAX_ANSWER_BYTES) throw new VendorError(`${where} answered more than ${MAX_ANSWER_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A vendor's error message from its error body (`{"error": {"message"}}`, `{"message"}`, `{"detail"}`, ...), cut short; never the body whole. */
export function vendorMessage(text: string): string {
  let msg: unknown;
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const e = j?.error;
    msg = (isPlainObject(e) ? (e.message ?? e.code) : e) ?? j?.message ?? j?.detail ?? j?.summary;
    if (typeof msg !== 'string') msg = msg === undefined ? undefined : JSON.stringify(msg);
  } catch {
    msg = undefined;
  }
  if (typeof msg !== 'string' || msg.length === 0) return '';
  return `: ${msg.length > 200 ? `${msg.slice(0, 200)}…` : msg}`;
}

/** The scheme, host and port of a URL: what may be reported (a path or query may carry a token). */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** Portkey's `timeout`: milliseconds for the vendor's answer. */
export const timeoutParam = (ms: number) => z.number().int().min(1).max(60_000).default(ms);

/**
 * A base URL the check may call (a vendor's regional host, a private endpoint, a self-hosted
 * service): http(s), no credentials in it, no query, not a cloud metadata address. Trailing slashes
 * are dropped. The egress policy still checks what its host resolves to when it is called.
 */
export const baseUrlParam = z.string().transform((raw, ctx) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(raw)} is not an absolute URL`, input: raw });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'only http and https URLs are allowed', input: raw });
    return z.NEVER;
  }
  if (url.username || url.password || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'a base URL has no credentials, query or fragment', input: raw });
    return z.NEVER;
  }
  try {
    checkCustomHost(url.origin, 'url');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^url: custom host/, 'host'), input: raw });
    return z.NEVER;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
});

/**
 * A DNS name a check builds its vendor's URL from (a region's host such as `aws.us.pangea.cloud`):
 * dot-separated labels of letters, digits and inner hyphens, at most 253 characters, so nothing but a
 * host can reach the URL. `message` names the parameter in the error.
 */
export const dnsNameParam = (message: string) => z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, message);

/** A secret: a non-empty string without line breaks (it goes into a header). */
export const secretParam = z
  .string()
  .min(1, 'is empty')
  .refine((s) => !/[\r\n\0]/.test(s), 'must not contain line breaks');

/**
 * The credentials a check uses: those of its config (`parameters.credentials`, Portkey's place for
 * them), or when the config has none, the plugin's options (the operator's, so a request's config can
 * name the check without holding the key). Never a mix of the two: a config that sets any credential
 * field (a custom host, say) gets none of the operator's, so it cannot send the operator's key to a
 * host of its choosing. Missing: an issue on `credentials`.
 */
export function chooseCredentials<T>(fromConfig: T | undefined, fromOptions: T | undefined, ctx: z.RefinementCtx, what: string): T | undefined {
  const chosen = fromConfig ?? fromOptions;
  if (chosen === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `${what} are required: set parameters.credentials, or the plugin's credentials option`,
      path: ['credentials'],
    });
  }
  return chosen;
}

// ---------------------------------------------------------------------------------------------
// Text

/** The text a check looks at: the request's before the call, the answer's after it. */
export function textOf(input: Pick<CheckInput<unknown>, 'hook' | 'request' | 'response'>): string {
  return input.hook === 'beforeRequest' ? input.request.text : (input.response?.text ?? '');
}

/** Chat messages of the request (OpenAI's or Anthropic's shape), as role and text. */
export function messagesOf(json: Record<string, unknown> | undefined): { role: string; text: string }[] {
  const out: { role: string; text: string }[] = [];
  if (json && typeof json.system === 'string') out.push({ role: 'system', text: json.system });
  else if (json && Array.isArray(json.system)) out.push({ role: 'system', text: partsText(json.system) });
  const messages = json?.messages;
  if (!Array.isArray(messages)) return out;
  for (const m of messages) {
    if (!isPlainObject(m) || typeof m.role !== 'string') continue;
    const text = typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? partsText(m.content) : '';
    out.push({ role: m.role, text });
  }
  return out;
}

function partsText(parts: unknown[]): string {
  const texts: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') texts.push(p);
    else if (isPlainObject(p) && typeof p.text === 'string') texts.push(p.text);
    else if (isPlainObject(p) && p.type === 'tool_result')
      texts.push(typeof p.content === 'string' ? p.content : Array.isArray(p.content) ? partsText(p.content) : '');
  }
  return texts.filter((t) => t.length > 0).join('\n');
}

/** A check's result when there is no text to send: it passes without calling the vendor (nothing to judge). */
export function nothingToCheck(vendor: string): { verdict: true; data: Record<string, unknown> } {
  return { verdict: true, data: { explanation: `No text to check; ${vendor} was not called.`, skipped: true } };
}

// ---------------------------------------------------------------------------------------------
// The common shape: `parameters.credentials` checked by the vendor's schema, else the options'.

/** The credentials most vendors take: an API key and, optionally, a base URL (a regional or self-hosted endpoint). */
export const ApiKeyCredentialsSchema = z.strictObject({ apiKey: secretParam, baseURL: baseUrlParam.optional() });
export type ApiKeyCredentials = z.output<typeof ApiKeyCredentialsSchema>;

/**
 * A check's parameters: `shape` plus `credentials`, validated by `credentials` (its issues named
 * `credentials.<field>`) and resolved to the config's, else `fromOptions` (see chooseCredentials).
 */
export function withCredentials<S extends z.ZodRawShape, C extends z.ZodType>(
  shape: S,
  credentials: C,
  fromOptions: z.output<C> | undefined,
  what: string,
) {
  type Out = Omit<z.output<z.ZodObject<S>>, 'credentials'> & { credentials: z.output<C> };
  return z.strictObject({ ...shape, credentials: z.unknown().optional() }).transform((p, ctx): Out => {
    const raw = (p as { credentials?: unknown }).credentials;
    let fromConfig: z.output<C> | undefined;
    if (raw !== undefined) {
      const r = credentials.safeParse(raw);
      if (!r.success) {
        for (const i of r.error.issues) ctx.addIssue({ ...i, path: ['credentials', ...i.path] } as Parameters<typeof ctx.addIssue>[0]);
        return z.NEVER;
      }
      fromConfig = r.data;
    }
    const chosen = chooseCredentials(fromConfig, fromOptions, ctx, what);
    if (chosen === undefined) return z.NEVER;
    return { ...(p as object), credentials: chosen } as Out;
  });
}

/** `Authorization: Bearer <key>`. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
