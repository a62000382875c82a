import { createHash } from 'node:crypto';
import { ErrorCode, GatewayError } from '@waygate/core';
import { isObj, num } from '@waygate/provider-kit';

/**
 * IBM Cloud IAM: an API key is exchanged for a bearer token at `POST {iamUrl}` (form
 * `grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=…`; answer `{access_token, expires_in,
 * expiration}`). Tokens are cached per key until shortly before they expire; concurrent requests
 * for one key share one exchange; a failed exchange is not cached.
 */

export const IAM_URL = 'https://iam.cloud.ibm.com/identity/token';
export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

export interface IamOptions {
  /** Where keys are exchanged (default IBM Cloud's IAM). */
  url?: string;
  /** Clock (ms since the epoch); tests move it. */
  now?: () => number;
  /** A token is renewed this long before it expires (default 5 minutes; at most half its lifetime). */
  refreshMarginMs?: number;
  /** Bound on one exchange (default 10 s). */
  timeoutMs?: number;
  /** Keys remembered at once (default 1000; the oldest is dropped). */
  maxEntries?: number;
}

interface Entry {
  token: string;
  /** From then on the token is exchanged again before it is handed out. */
  renewAt: number;
}

export class IamTokens {
  readonly url: string;
  readonly #now: () => number;
  readonly #margin: number;
  readonly #timeoutMs: number;
  readonly #max: number;
  readonly #tokens = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<string>>();
  /** How many exchanges were made (for tests and metrics). */
  exchanges = 0;

  constructor(opts: IamOptions = {}) {
    this.url = opts.url ?? IAM_URL;
    this.#now = opts.now ?? Date.now;
    this.#margin = opts.refreshMarginMs ?? 5 * 60_000;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#max = opts.maxEntries ?? 1000;
  }

  /** A bearer token for this API key: from the cache while it is fresh, else from one shared exchange. */
  get(apiKey: string): string | Promise<string> {
    const id = createHash('sha256').update(apiKey).digest('base64url');
    const hit = this.#tokens.get(id);
    if (hit && this.#now() < hit.renewAt) return hit.token;
    const running = this.#pending.get(id);
    if (running) return running;
    const p = this.#exchange(apiKey).then(
      (entry) => {
        this.#pending.delete(id);
        if (this.#tokens.size >= this.#max && !this.#tokens.has(id)) this.#tokens.delete(this.#tokens.keys().next().value!);
        this.#tokens.set(id, entry);
        return entry.token;
      },
      (err: unknown) => {
        this.#pending.delete(id);
        throw err;
      },
    );
    this.#pending.set(id, p);
    return p;
  }

  async #exchange(apiKey: string): Promise<Entry> {
    this.exchanges++;
    const started = this.#now();
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: APIKEY_GRANT, apikey: apiKey }).toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new GatewayError(ErrorCode.UPSTREAM_UNREACHABLE, 502, `watsonx: IBM Cloud IAM could not be reached (${(err as Error).name})`, {
        retryable: true,
      });
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const why = isObj(json) && typeof json.errorMessage === 'string' ? json.errorMessage.slice(0, 500) : `status ${res.status}`;
      // A key IAM refuses is the caller's problem (401); IAM's own trouble may pass (502, retryable).
      if (res.status === 400 || res.status === 401 || res.status === 403) {
        throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 401, `watsonx: IBM Cloud IAM refused the API key: ${why}`, { type: 'authentication_error' });
      }
      throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `watsonx: IBM Cloud IAM answered ${res.status}: ${why}`, { retryable: true });
    }
    const answer = isObj(json) ? json : {};
    const token = typeof answer.access_token === 'string' && answer.access_token ? answer.access_token : undefined;
    if (!token)
      throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, 'watsonx: IBM Cloud IAM answered without an access_token', { retryable: true });
    // Its lifetime: `expires_in` seconds from the exchange, else the `expiration` epoch second, else an hour.
    const expiresIn = num(answer.expires_in);
    const expiration = num(answer.expiration);
    const expiresAt = expiresIn !== undefined ? started + expiresIn * 1000 : expiration !== undefined ? expiration * 1000 : started + 3600_000;
    const lifetime = Math.max(0, expiresAt - started);
    return { token, renewAt: expiresAt - Math.min(this.#margin, lifetime / 2) };
  }
}
