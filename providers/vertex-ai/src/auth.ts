import { createHash, createPrivateKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ErrorCode, GatewayError, badRequest, checkCustomHost } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

/**
 * Google service-account auth without an SDK: a service account's key signs a short JWT (RS256), the
 * JWT is exchanged at the account's `token_uri` for an OAuth access token (the JWT-bearer grant of
 * RFC 7523), and the access token is cached per service account until a few minutes before it
 * expires. Concurrent requests share one exchange; nothing is minted per request.
 */

export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Lifetime asked for in the JWT (`exp - iat`); Google allows at most one hour. */
export const JWT_LIFETIME_SECONDS = 3600;

/** A parsed, checked service account key. Holds the private key only as a KeyObject. */
export interface ServiceAccount {
  clientEmail: string;
  privateKeyId?: string;
  /** Where the JWT is exchanged (checked like a custom host: http(s), no metadata addresses). */
  tokenUri: string;
  projectId?: string;
  /** The signing key. */
  key: KeyObject;
  /**
   * The cache identity: a hash over client_email, private_key_id, the private key and token_uri. The
   * private key is part of it, so a caller who knows another tenant's client_email and key id (both
   * public-ish: the key id is in every JWT header) can never be served that tenant's cached token.
   */
  id: string;
}

const MAX_PARSED = 256;
const parsedStrings = new Map<string, ServiceAccount>();
const parsedObjects = new WeakMap<object, ServiceAccount>();

/**
 * Parses a service account key file's JSON (an object, or its text) into a ServiceAccount. Parsed
 * once per distinct value (bounded), since the same config or header arrives with every request.
 * Error messages name the problem, never the key material. `where` names the config key or header.
 */
export function parseServiceAccount(raw: unknown, where: string): ServiceAccount {
  if (typeof raw === 'string') {
    const hit = parsedStrings.get(raw);
    if (hit) return hit;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw invalid(where, "is not valid JSON (it must be the service account key file's JSON)");
    }
    const sa = fromObject(json, where);
    if (parsedStrings.size >= MAX_PARSED) parsedStrings.delete(parsedStrings.keys().next().value!);
    parsedStrings.set(raw, sa);
    return sa;
  }
  if (isObj(raw)) {
    const hit = parsedObjects.get(raw);
    if (hit) return hit;
    const sa = fromObject(raw, where);
    parsedObjects.set(raw, sa);
    return sa;
  }
  throw invalid(where, 'must be a service account key file: a JSON object or its JSON text');
}

function invalid(where: string, why: string): GatewayError {
  return badRequest(ErrorCode.INVALID_CONFIG, `${where} ${why}`, where);
}

function fromObject(json: unknown, where: string): ServiceAccount {
  if (!isObj(json)) throw invalid(where, 'must be a JSON object (a service account key file)');
  if (json.type !== undefined && json.type !== 'service_account') {
    throw invalid(where, `has type ${JSON.stringify(String(json.type).slice(0, 40))}; only "service_account" keys are supported`);
  }
  const clientEmail = json.client_email;
  if (typeof clientEmail !== 'string' || !clientEmail.trim()) throw invalid(where, 'has no client_email');
  let pem = json.private_key;
  if (typeof pem !== 'string' || !pem.trim()) throw invalid(where, 'has no private_key');
  // A key pasted with its newlines still escaped (a literal backslash-n) is a common copy slip.
  if (!pem.includes('\n') && pem.includes('\\n')) pem = pem.replace(/\\n/g, '\n');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw invalid(where, 'has a private_key that is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw invalid(where, 'has a private_key that is not an RSA key (RS256 needs one)');
  const privateKeyId = typeof json.private_key_id === 'string' && json.private_key_id ? json.private_key_id : undefined;
  const rawUri = typeof json.token_uri === 'string' && json.token_uri.trim() ? json.token_uri.trim() : DEFAULT_TOKEN_URI;
  const tokenUri = rawUri === DEFAULT_TOKEN_URI ? rawUri : checkCustomHost(rawUri, `${where}.token_uri`);
  const projectId = typeof json.project_id === 'string' && json.project_id ? json.project_id : undefined;
  const id = createHash('sha256')
    .update(clientEmail)
    .update('\u0000')
    .update(privateKeyId ?? '')
    .update('\u0000')
    .update(pem)
    .update('\u0000')
    .update(tokenUri)
    .digest('base64url');
  return { clientEmail, privateKeyId, tokenUri, projectId, key, id };
}

const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

/** The signed JWT a service account exchanges for an access token (RS256, one hour, cloud-platform scope). */
export function signServiceAccountJwt(sa: ServiceAccount, nowSeconds: number): string {
  const header: Json = { alg: 'RS256', typ: 'JWT' };
  if (sa.privateKeyId) header.kid = sa.privateKeyId;
  const claims = { iss: sa.clientEmail, scope: CLOUD_PLATFORM_SCOPE, aud: sa.tokenUri, iat: nowSeconds, exp: nowSeconds + JWT_LIFETIME_SECONDS };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'utf8'), sa.key).toString('base64url');
  return `${signingInput}.${signature}`;
}

export interface TokenCacheOptions {
  /** Clock (ms since the epoch); tests move it. */
  now?: () => number;
  /** A token is renewed this long before it expires (default 5 minutes; at most half its lifetime). */
  refreshMarginMs?: number;
  /** Bound on one exchange (default 10 s). */
  timeoutMs?: number;
  /** Service accounts remembered at once (default 1000; the oldest is dropped). */
  maxEntries?: number;
  /**
   * What the exchange calls the token endpoint with (default: the global fetch). The plugin passes
   * the gateway's egress policy's (`api.egress.fetch`): a `token_uri` can come from a caller's
   * service account, so where it resolves to is checked like a custom host's.
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

interface Entry {
  token: string;
  /** After this, the token is renewed (in the background while it is still usable). */
  refreshAt: number;
  /** After this, the token is no longer handed out. */
  usableUntil: number;
}

/** A token is not handed out in the last seconds of its life: a request must still reach Google with it. */
const EXPIRY_SAFETY_MS = 30_000;

/**
 * Access tokens per service account. `get()` answers from the cache while the token is fresh; past
 * its refresh time (5 minutes before expiry) it still answers with the old token and renews it in
 * the background; with no usable token it waits for one exchange, shared by every concurrent caller.
 * A failed exchange is not cached: the next request tries again.
 */
export class TokenCache {
  readonly #now: () => number;
  readonly #margin: number;
  readonly #timeoutMs: number;
  readonly #max: number;
  readonly #fetch: (url: string, init: RequestInit) => Promise<Response>;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(opts: TokenCacheOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#margin = opts.refreshMarginMs ?? 5 * 60_000;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#max = opts.maxEntries ?? 1000;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** A token that may still be used now (possibly due for renewal), or undefined. Synchronous. */
  peek(sa: ServiceAccount): string | undefined {
    const e = this.#entries.get(sa.id);
    return e && this.#now() < e.usableUntil ? e.token : undefined;
  }

  /**
   * The service account's access token: a string when one is cached and usable (no await needed),
   * else a promise of the one shared exchange.
   */
  get(sa: ServiceAccount): string | Promise<string> {
    const e = this.#entries.get(sa.id);
    const now = this.#now();
    if (e && now < e.refreshAt) return e.token;
    if (e && now < e.usableUntil) {
      // Due for renewal but still good: answer now, renew once in the background.
      if (!this.#inflight.has(sa.id)) this.#start(sa).catch(() => undefined);
      return e.token;
    }
    return this.#inflight.get(sa.id) ?? this.#start(sa);
  }

  /** Forgets every token (tests; key rotation). */
  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #start(sa: ServiceAccount): Promise<string> {
    const p = this.#exchange(sa).finally(() => this.#inflight.delete(sa.id));
    this.#inflight.set(sa.id, p);
    return p;
  }

  async #exchange(sa: ServiceAccount): Promise<string> {
    const started = this.#now();
    const assertion = signServiceAccountJwt(sa, Math.floor(started / 1000));
    const { token, expiresInS } = await exchangeJwt(this.#fetch, sa, assertion, this.#timeoutMs);
    const lifeMs = expiresInS * 1000;
    const margin = Math.min(this.#margin, lifeMs / 2);
    if (this.#entries.size >= this.#max && !this.#entries.has(sa.id)) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(sa.id, {
      token,
      refreshAt: started + lifeMs - margin,
      usableUntil: started + lifeMs - Math.min(EXPIRY_SAFETY_MS, margin),
    });
    return token;
  }
}

/** Removes anything secret from a text that will become an error message. */
function scrub(text: string, assertion: string): string {
  let out = text.split(assertion).join('[assertion]');
  out = out.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[private key]');
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

/** POSTs the JWT-bearer grant to the token endpoint and reads `access_token` and `expires_in`. */
async function exchangeJwt(
  send: (url: string, init: RequestInit) => Promise<Response>,
  sa: ServiceAccount,
  assertion: string,
  timeoutMs: number,
): Promise<{ token: string; expiresInS: number }> {
  const who = `the service account ${sa.clientEmail}`;
  let res: Response;
  try {
    res = await send(sa.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined;
    // The egress policy refused the token endpoint before connecting: a 400 with its reason, like a custom host's.
    if (cause instanceof GatewayError) throw new GatewayError(cause.code, 400, `vertex-ai: token_uri of ${who}: ${cause.message}`, { param: 'token_uri' });
    const reason = err instanceof Error ? ((cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new GatewayError(
      ErrorCode.UPSTREAM_UNREACHABLE,
      502,
      `vertex-ai: could not reach the token endpoint ${sa.tokenUri} to get an access token for ${who}: ${scrub(reason, assertion)}`,
      { retryable: true, type: 'server_error' },
    );
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* an unreadable body is reported like an empty one */
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const detail = isObj(json) ? [json.error, json.error_description].filter((x) => typeof x === 'string' && x).join(': ') : text.trim();
    const msg = `vertex-ai: the token endpoint refused ${who} (status ${res.status}${detail ? `: ${scrub(detail, assertion)}` : ''})`;
    if (res.status === 429 || res.status >= 500) {
      throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, msg, { retryable: true, type: 'server_error' });
    }
    throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 401, msg, { retryable: false, type: 'authentication_error' });
  }
  const token = isObj(json) ? json.access_token : undefined;
  if (typeof token !== 'string' || !token) {
    throw new GatewayError(
      ErrorCode.UPSTREAM_BAD_RESPONSE,
      502,
      `vertex-ai: the token endpoint ${sa.tokenUri} answered ${res.status} without an access_token for ${who}`,
      { retryable: true },
    );
  }
  const rawExp = isObj(json) ? Number(json.expires_in) : NaN;
  const expiresInS = Number.isFinite(rawExp) && rawExp > 0 ? rawExp : JWT_LIFETIME_SECONDS;
  return { token, expiresInS };
}
