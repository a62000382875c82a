import { EventEmitter } from 'node:events';
import { ErrorCode, GatewayError } from '@waygate/core';
import type { BuildInput, PluginApi, UpstreamRequest } from '@waygate/core';
import { badAnswer, mapReplicateError, predictionFailed } from './errors.js';
import { baseOf, createPrediction, headersFor, invalid } from './request.js';
import { isObj, str } from './json.js';
import type { Json } from './json.js';

/**
 * Running a prediction before the kernel's own call (the adapter's prepare()): create it, and unless
 * it streams, poll it until it ends. The kernel then makes the last call, built by build(): the
 * finished prediction (`urls.get`) or its event stream (`urls.stream`).
 */

type Upstream = Pick<PluginApi['upstream'], 'send'>;

/** The first wait before a prediction still running is asked for again; each wait doubles, up to POLL_MAX_MS. */
export const POLL_FIRST_MS = 250;
/** The longest wait between two reads of a running prediction. */
export const POLL_MAX_MS = 2000;
/** The longest a `Retry-After` on a read's 429 is honoured: beyond it (or the request's bound) the 429 is the answer. */
export const RETRY_AFTER_MAX_MS = 60_000;
/** The longest a prediction is waited for when the request has no deadline nor request_timeout. */
export const MAX_WAIT_MS = 10 * 60_000;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
/** Bound on the cancel sent for a prediction the gateway gives up on. */
const CANCEL_TIMEOUT_MS = 5000;

/** The key of this adapter's entry in `BuildInput.prepared`. */
const SLOT = 'replicate';

/** What prepare() hands build(): the prediction (finished, or streaming) and the URL to call. */
export interface Prepared {
  prediction: Json;
  url: string;
}

export function preparedOf(input: BuildInput): Prepared {
  const p = input.prepared?.[SLOT] as Prepared | undefined;
  if (!p)
    throw new GatewayError(
      ErrorCode.INTERNAL,
      500,
      'replicate: no prediction yet; the gateway core must await endpoint.prepare(input) before build(input)',
    );
  return p;
}

/** The abort signal of the calls prepare() makes: the client leaving, or the wait's bound passing. */
export class Halt extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  timedOut = false;
  /** When the bound passes (performance.now()). */
  readonly endsAt: number;
  readonly #timer: NodeJS.Timeout;
  readonly #client: EventEmitter;
  readonly #onClient = (reason: unknown) => this.abort(reason);

  constructor(client: EventEmitter & { aborted?: boolean; reason?: unknown }, ms: number) {
    super();
    this.endsAt = performance.now() + ms;
    this.#client = client;
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.abort(new Error('replicate: the prediction did not finish in time'));
    }, ms);
    if (client.aborted) this.abort(client.reason);
    else client.once('abort', this.#onClient);
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new Error('aborted');
    this.emit('abort', this.reason);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#client.removeListener('abort', this.#onClient);
  }

  /** Waits `ms`, or less if the call is halted. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        this.removeListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.once('abort', done);
    });
  }
}

/**
 * A 429's `Retry-After` (seconds, or an HTTP date) in milliseconds from `now`; undefined when absent or
 * unreadable. A date in the past is 0.
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined> | undefined, now = Date.now()): number | undefined {
  const raw = headers?.['retry-after'];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!v) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** How long this attempt may wait for its prediction: the request's deadline, its request_timeout, else MAX_WAIT_MS. */
export function waitBudget(input: BuildInput): number {
  const { ctx, target } = input;
  let ms = ctx.requestTimeoutMs ?? target.node.request_timeout ?? MAX_WAIT_MS;
  if (ctx.deadlineAt !== undefined) ms = Math.min(ms, ctx.deadlineAt - performance.now());
  return Math.max(1, Math.floor(ms));
}

/**
 * A URL from a prediction (`urls.get`, `urls.stream`, `urls.cancel`), checked before the key is sent
 * to it: on the target's own origin, or an https URL of a replicate.com host (the stream host).
 */
export function trustedUrl(url: unknown, input: BuildInput, what: string): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    throw badAnswer(`answered a prediction whose ${what} URL is not a URL`, false);
  }
  const own = new URL(baseOf(input)).origin;
  const replicate = u.protocol === 'https:' && (u.hostname === 'replicate.com' || u.hostname.endsWith('.replicate.com'));
  if (u.origin !== own && !replicate) throw badAnswer(`answered a prediction whose ${what} URL is outside Replicate's hosts (${u.origin})`, false);
  return u.href;
}

/** The URL that reads a prediction again: its `urls.get`, else `{base}/predictions/{id}`. */
export function getUrl(p: Json, input: BuildInput): string {
  if (isObj(p.urls) && p.urls.get !== undefined) return trustedUrl(p.urls.get, input, 'get');
  const id = str(p.id);
  if (!id) throw badAnswer('answered a prediction without an id', true);
  return `${baseOf(input)}/predictions/${encodeURIComponent(id)}`;
}

/** One call to Replicate: its JSON answer, or the GatewayError its status, its body or the network stands for. */
export async function call(
  upstream: Upstream,
  req: UpstreamRequest,
  halt: Halt,
  steered: boolean,
  input: BuildInput,
): Promise<{ status: number; json: Json }> {
  const secret = input.target.apiKey;
  let status = 0;
  let text: string;
  let headers: Record<string, string | string[] | undefined> = {};
  try {
    const res = await upstream.send(req, halt, undefined, steered);
    status = res.statusCode;
    headers = res.headers;
    text = (await res.body.readAll()).toString('utf8');
  } catch (err) {
    throw unreachable(err, halt, status !== 0);
  }
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    if (status < 400) throw badAnswer(`answered ${status} with a body that is not valid JSON`);
  }
  if (status >= 400) throw mapReplicateError(status, json, headers, { secret });
  if (!isObj(json)) throw badAnswer(`answered ${status} without a prediction`);
  return { status, json };
}

/** A call that got no usable answer: the wait's bound passed, the client left, or the network failed. */
export function unreachable(err: unknown, halt: Halt, answered: boolean): GatewayError {
  if (err instanceof GatewayError) return err;
  if (halt.timedOut) {
    return new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 408, 'replicate: the prediction did not finish within the request timeout', {
      retryable: true,
      type: 'timeout_error',
      cause: err,
    });
  }
  if (halt.aborted) return new GatewayError(ErrorCode.CLIENT_CLOSED, 499, 'The client closed the request', { cause: err });
  const code = (err as { code?: unknown }).code;
  const what = answered ? 'Lost the connection to' : 'Could not reach';
  return new GatewayError(ErrorCode.UPSTREAM_UNREACHABLE, 502, `${what} replicate${typeof code === 'string' ? ` (${code})` : ''}`, {
    retryable: true,
    type: 'server_error',
    cause: err,
  });
}

/** Cancels a prediction the gateway gave up on (best effort, not awaited): it would run, and bill, on. */
function cancel(upstream: Upstream, p: Json, input: BuildInput, steered: boolean): void {
  let url: string;
  try {
    url = isObj(p.urls) && p.urls.cancel !== undefined ? trustedUrl(p.urls.cancel, input, 'cancel') : `${getUrl(p, input)}/cancel`;
  } catch {
    return;
  }
  const halt = new Halt(new EventEmitter(), CANCEL_TIMEOUT_MS);
  upstream
    .send({ url, method: 'POST', headers: headersFor(input) }, halt, undefined, steered)
    .then((res) => res.body.readAll())
    .catch(() => undefined)
    .finally(() => halt.dispose());
}

/**
 * Reads a prediction again until it ends (`succeeded`, `failed`, `canceled`), while it is `starting`
 * or `processing`: waiting 250 ms, then twice as long each time up to 2 s. A read answered 429 waits
 * for its `Retry-After` (else the next backoff) and reads again, unless that wait would pass the bound
 * (or RETRY_AFTER_MAX_MS): then the 429 is the answer. Returns the last read's HTTP status and prediction.
 */
export async function pollUntilDone(
  upstream: Upstream,
  first: { status: number; json: Json },
  input: BuildInput,
  halt: Halt,
  steered: boolean,
): Promise<{ status: number; json: Json }> {
  let { status, json: p } = first;
  let backoff = POLL_FIRST_MS;
  let wait = backoff;
  while (!TERMINAL.has(str(p.status) ?? '')) {
    if (!['starting', 'processing'].includes(str(p.status) ?? '')) throw badAnswer(`answered a prediction with the status ${JSON.stringify(p.status)}`);
    await halt.pause(wait);
    if (halt.aborted) throw unreachable(halt.reason, halt, false);
    backoff = Math.min(POLL_MAX_MS, backoff * 2);
    wait = backoff;
    try {
      ({ status, json: p } = await call(upstream, { url: getUrl(p, input), method: 'GET', headers: headersFor(input) }, halt, steered, input));
    } catch (err) {
      if (!(err instanceof GatewayError) || err.status !== 429) throw err;
      wait = retryAfterMs(err.upstream?.headers) ?? backoff;
      if (wait > RETRY_AFTER_MAX_MS || performance.now() + wait >= halt.endsAt) throw err;
    }
  }
  return { status, json: p };
}

/**
 * Runs the attempt's prediction, then leaves what build() needs in `input.prepared`: not streamed,
 * the finished prediction (polled on `urls.get` with a backoff, pollUntilDone, while it is `starting`
 * or `processing`); streamed, the created prediction and its `urls.stream`. Bounded by the request's
 * deadline and timeout and by the client staying; a prediction given up on is canceled. A prediction
 * that fails is a 502 (not retryable).
 */
export async function runPrediction(upstream: Upstream, input: BuildInput): Promise<void> {
  const { ctx, target } = input;
  const stream = input.body?.stream === true;
  const budget = waitBudget(input);
  const req = createPrediction(input, stream, budget);
  // A custom host that is not the config file's is the caller's: under the egress policy, as the kernel sends it.
  const steered = target.node.custom_host !== undefined && ctx.configSource !== 'file';
  const halt = new Halt(ctx.abortEmitter, budget);
  let running: Json | undefined;
  try {
    let { status, json: p } = await call(upstream, req, halt, steered, input);
    // Only a prediction still running is worth a cancel if this attempt gives up on it.
    running = TERMINAL.has(str(p.status) ?? '') ? undefined : p;
    if (stream) {
      if (str(p.status) === 'failed' || str(p.status) === 'canceled') throw predictionFailed(p, status, target.apiKey);
      const url = isObj(p.urls) ? p.urls.stream : undefined;
      if (url === undefined)
        throw invalid(
          `replicate: model ${String(input.body?.model)} does not stream its output (its prediction has no urls.stream); ask without stream`,
          'stream',
        );
      (input.prepared ??= {})[SLOT] = { prediction: p, url: trustedUrl(url, input, 'stream') } satisfies Prepared;
      running = undefined;
      return;
    }
    ({ status, json: p } = await pollUntilDone(upstream, { status, json: p }, input, halt, steered));
    running = undefined;
    if (p.status !== 'succeeded') throw predictionFailed(p, status, target.apiKey);
    (input.prepared ??= {})[SLOT] = { prediction: p, url: getUrl(p, input) } satisfies Prepared;
  } catch (err) {
    if (running) cancel(upstream, running, input, steered);
    throw err;
  } finally {
    halt.dispose();
  }
}
