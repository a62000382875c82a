import { z } from 'zod';
import { GatewayError, checkCustomHost } from '@waygate/core';
import type { CheckInput } from '@waygate/guardrails';
import { RegexCache, RegexEngineSchema, SafeRegexError } from '@waygate/safe-regex';
import type { CompileOptions, SafeRegex } from '@waygate/safe-regex';

type Egress = CheckInput['egress'];

/** Portkey's `not`: inverts a check's verdict. */
export const not = z.boolean().default(false);

/** The text a check looks at: the request's before the call, the answer's after it. */
export function textOf(input: Pick<CheckInput<unknown>, 'hook' | 'request' | 'response'>): string {
  return input.hook === 'beforeRequest' ? input.request.text : (input.response?.text ?? '');
}

/** A map that forgets its oldest entry past `max` entries (insertion order). */
export class BoundedCache<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly max: number) {}

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    if (!this.#map.has(key) && this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value as K);
    this.#map.set(key, value);
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }
}

// ---------------------------------------------------------------------------------------------
// Regular expressions: compiled by @waygate/safe-regex (RE2, linear time, unless the config file opts
// in to JavaScript's RegExp) when a config's parameters are parsed (once per distinct config), and
// shared between configs that use the same pattern.

const compiled = new RegexCache(1024);

/** Compiles a pattern once per (engine, flags, pattern); throws a SafeRegexError for one the engine refuses or one over the limits. */
export function compileRegex(source: string, flags: string, options: CompileOptions = {}): SafeRegex {
  return compiled.compile(source, flags, options);
}

/** How many patterns are compiled and kept (for tests). */
export function compiledRegexCount(): number {
  return compiled.size;
}

/** Extra flags a rule may carry (a Waygate extension): i, m, s, u, each at most once. */
export const regexFlags = z
  .string()
  .regex(/^(?!.*(.).*\1)[imsu]*$/, 'flags are any of "i", "m", "s", "u", each at most once')
  .default('');

export const regexRule = z.string().min(1, 'rule is empty');

/** The engine of a rule: `re2`, or `javascript` (only in the gateway's config file: the guardrails plugin refuses it from a request). */
export const regexEngine = RegexEngineSchema;

/** Compiles a parsed rule inside a zod transform; a refused pattern is an issue on `rule` (`rule is not supported by ...`). */
export function compileRule(rule: string, flags: string, options: CompileOptions, ctx: z.RefinementCtx): SafeRegex | undefined {
  try {
    return compileRegex(rule, flags, options);
  } catch (err) {
    if (!(err instanceof SafeRegexError)) throw err;
    ctx.addIssue({ code: 'custom', message: `rule is ${err.message}`, path: ['rule'], input: rule });
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Outbound URLs (webhook, log, JWKS): http(s) only, never a cloud metadata address; every call goes
// through the gateway's egress policy (`input.egress`), which checks the addresses names resolve to.

/** An http(s) URL the gateway may call: no credentials in it, no link-local or metadata host (whatever the policy). */
export const httpUrl = z.string().superRefine((raw, ctx) => {
  const why = outboundUrlProblem(raw);
  if (why) ctx.addIssue({ code: 'custom', message: why, input: raw });
});

/** Why the gateway must not call a URL, by its text (`check`: a policy's, default none), or undefined when it may. */
export function outboundUrlProblem(raw: string, check: Egress['check'] = checkCustomHost): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${JSON.stringify(raw)} is not an absolute URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${JSON.stringify(raw)}: only http and https URLs are allowed`;
  if (url.username || url.password) return 'credentials in the URL are not allowed (send them in headers)';
  try {
    check(url.origin, 'url');
  } catch (err) {
    return (err as Error).message.replace(/^url: custom host/, 'host');
  }
  return undefined;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers to send: an object of strings, or that object as a JSON string (Portkey accepts both). */
export const headersParam = z
  .union([z.record(z.string(), z.string()), z.string()])
  .optional()
  .transform((value, ctx) => {
    let obj: unknown = value ?? {};
    if (typeof obj === 'string') {
      try {
        obj = JSON.parse(obj);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'headers is a string that is not JSON', input: value });
        return z.NEVER;
      }
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      ctx.addIssue({ code: 'custom', message: 'headers must be an object of strings', input: value });
      return z.NEVER;
    }
    const out: Record<string, string> = {};
    for (const [name, v] of Object.entries(obj as Record<string, unknown>)) {
      if (!HEADER_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', message: `headers: ${JSON.stringify(name)} is not a valid header name`, input: value });
        return z.NEVER;
      }
      if (typeof v !== 'string' || /[\r\n\0]/.test(v)) {
        ctx.addIssue({ code: 'custom', message: `headers.${name} must be a string without line breaks`, input: value });
        return z.NEVER;
      }
      out[name.toLowerCase()] = v;
    }
    return out;
  });

/** A time limit in milliseconds for a call out (default 3000, Portkey's). */
export const timeoutMs = z.number().int().min(1).max(60_000).default(3000);

export interface PostResult {
  status: number;
  text: string;
}

/** The most a webhook or log collector may answer: a verdict, and at most a rewritten request or answer. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * POSTs JSON to a URL with only the given headers, bounded by `timeout` and the request's signal.
 * Redirects are not followed (a 3xx is an answer like any other). Throws on a network failure, a
 * timeout, an abort, a refusal of the egress policy or an answer over `maxBytes`, with a message
 * that says which.
 */
export async function postJson(
  egress: Egress,
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeout: number,
  signal: AbortSignal,
  maxBytes = MAX_ANSWER_BYTES,
): Promise<PostResult> {
  const res = await send(
    egress,
    url,
    { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) },
    timeout,
    signal,
  );
  return { status: res.status, text: await readText(res, maxBytes, safeOrigin(url), timeout) };
}

/**
 * An answer's body as text, read as it arrives: one byte over `maxBytes` stops the read (the
 * connection is closed, the rest never read) and throws, so an answer never holds more than that.
 * The time limit of `send` covers the body too.
 */
export async function readText(res: Response, maxBytes: number, where: string, timeout: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      if ((size += chunk.length) > maxBytes) throw new Error(`${where} answered more than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new Error(`${where} did not answer within ${timeout} ms`);
    throw err;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** fetch() under the egress policy, with a time limit and the request's signal; errors say what happened. */
export async function send(egress: Egress, url: string, init: RequestInit, timeout: number, signal: AbortSignal): Promise<Response> {
  const limit = AbortSignal.timeout(timeout);
  try {
    return await egress.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.any([signal, limit]) });
  } catch (err) {
    const host = safeOrigin(url);
    if (limit.aborted && !signal.aborted) throw new Error(`${host} did not answer within ${timeout} ms`);
    if (signal.aborted) throw new Error(`the call to ${host} was cancelled`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    // Refused by the egress policy before any connection: say so, with the policy's reason.
    if (cause instanceof GatewayError) throw new Error(`${host} was not called: ${cause.message}`);
    throw new Error(`${host} could not be reached: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
}

/** The scheme, host and port of a URL: what may be reported (a path or query may carry a token). */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/** A duration: seconds as a number, or a string like `1d`, `12h`, `30m`, `45s`, `2 hours`. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|y|yrs?|years?)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = unit.startsWith('s')
    ? 1
    : unit.startsWith('mi') || unit === 'm'
      ? 60
      : unit.startsWith('h')
        ? 3600
        : unit.startsWith('d')
          ? 86400
          : unit.startsWith('w')
            ? 604800
            : 31557600;
  return n * mult;
}

/** A string list given as an array or as a comma-separated string (Portkey accepts both). */
export const stringList = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Map from Portkey's request types to Waygate's endpoint ids (both are accepted in parameters). */
export const PORTKEY_REQUEST_TYPES: Readonly<Record<string, string>> = Object.freeze({
  chatComplete: 'chat.completions',
  'stream-chatComplete': 'chat.completions',
  complete: 'completions',
  'stream-complete': 'completions',
  embed: 'embeddings',
  messages: 'messages',
  'stream-messages': 'messages',
  messagesCountTokens: 'messages.count_tokens',
  imageGenerate: 'images.generations',
  createSpeech: 'audio.speech',
  createTranscription: 'audio.transcriptions',
  createTranslation: 'audio.translations',
  listModels: 'models',
});

/** Portkey's request type for an endpoint id (for payloads sent to webhooks), or the id itself. */
export function portkeyRequestType(endpoint: string): string {
  for (const [type, id] of Object.entries(PORTKEY_REQUEST_TYPES)) if (id === endpoint && !type.startsWith('stream-')) return type;
  return endpoint;
}
