import { AfterResponseStage, BeforeRequestStage, GatewayError } from '@waygate/core';
import type { GatewayResponse, PluginApi, RequestContext, SSEEvent } from '@waygate/core';
import type { Principal } from './principal.js';
import type { Admission, Bucket, Counters } from './ratelimit.js';
import type { SpendLedger } from './spend.js';
import type { PriceBook, Tokens } from './cost.js';
import type { RateLimit } from './records.js';
import { principalOf } from './principal.js';
import { rateLimitHeaders, resetText, WINDOW_MS } from './ratelimit.js';
import { periodStart } from './spend.js';
import { tokensOf } from './cost.js';
import { globs } from './keys.js';

/** What the RATE_LIMIT tap leaves for the USAGE tap. */
interface Admitted {
  principal: Principal;
  buckets: Bucket[];
  window: number;
  /** Tokens reserved at admission: the prompt's estimate plus the answer's cap. */
  reserved: number;
  promptEstimate: number;
  settled: boolean;
}

/** A rough count of a request's prompt tokens: its JSON's bytes over four (the usual English ratio; JSON's punctuation makes it generous). */
function promptEstimate(ctx: RequestContext): number {
  const raw = ctx.rawBody;
  const bytes = raw ? raw.length : ctx.body ? JSON.stringify(ctx.body).length : 0;
  return Math.ceil(bytes / 4);
}

/** The answer's token cap the request names (OpenAI's max_tokens / max_completion_tokens, Anthropic's max_tokens, Responses' max_output_tokens). */
function answerCap(ctx: RequestContext): number {
  const b = ctx.body;
  if (!b) return 0;
  for (const k of ['max_completion_tokens', 'max_tokens', 'max_output_tokens']) {
    const v = b[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.ceil(v);
  }
  return 0;
}

const compiled = new WeakMap<object, Array<{ pattern: string; test: (m: string) => boolean }>>();

/** The buckets a request counts in: its key's and team's limits, and their per-model limits that match the model. */
export function bucketsOf(p: Principal, model: string | undefined): Bucket[] {
  const out: Bucket[] = [];
  const add = (scope: string, rl: RateLimit | null | undefined) => {
    if (!rl) return;
    if (rl.requests_per_minute !== undefined || rl.tokens_per_minute !== undefined)
      out.push({ id: scope, rpm: rl.requests_per_minute, tpm: rl.tokens_per_minute });
    if (!rl.per_model || model === undefined) return;
    let list = compiled.get(rl.per_model);
    if (!list) compiled.set(rl.per_model, (list = Object.keys(rl.per_model).map((pattern) => ({ pattern, test: globs([pattern])! }))));
    for (const { pattern, test } of list) {
      const m = rl.per_model[pattern]!;
      if (test(model)) out.push({ id: `${scope}:model:${pattern}`, rpm: m.requests_per_minute, tpm: m.tokens_per_minute });
    }
  };
  add(`key:${p.keyId}`, p.rate_limit);
  if (p.team) add(`team:${p.team.id}`, p.team.rate_limit);
  return out;
}

export interface GovernanceDeps {
  counters: Counters;
  ledger: SpendLedger;
  prices: PriceBook;
  /** When the store does not answer a budget check: refuse (503 budget_unavailable), or let the request through. */
  whenStoreDown: 'refuse' | 'last-known';
  now?: () => number;
}

const tooMany = (code: string, message: string, headers: Record<string, string>) =>
  new GatewayError(code, 429, message, { type: code === 'budget_exceeded' ? 'insufficient_quota' : 'requests', headers });

/**
 * Rate limits, budgets and spend, for requests whose key `@waygate/auth` accepted:
 * - `beforeRequest` at RATE_LIMIT: a key or team over its budget is refused (429 `budget_exceeded`);
 *   then the request is counted in its buckets, or refused (429 `rate_limit_exceeded`) when one has
 *   no room for it or for its token estimate; the x-ratelimit-* headers go on the answer.
 * - `afterResponse` at USAGE: the tokens the answer used replace the estimate in the counters, the
 *   cost goes on the log line (`costUsd`), the `x-waygate-cost` header (JSON answers) and the spend
 *   ledger. A stream is accounted when it ends, however it ends: a client that left is charged what
 *   the upstream reported, or an estimate flagged as such (`estimated`).
 */
export function installGovernance(api: PluginApi, deps: GovernanceDeps): void {
  const state = api.requestState<Admitted>();
  const now = deps.now ?? Date.now;
  const log = api.logger;
  const unpriced = new Set<string>();

  api.hooks.beforeRequest.tapPromise(BeforeRequestStage.RATE_LIMIT, (ctx) => {
    if (ctx.madeBy !== undefined) return undefined;
    const p = principalOf(ctx);
    if (!p) return undefined;
    // A key with no budget whose counters are in memory is admitted at once, with no promise made for it.
    if (p.budget || p.team?.budget) return checkBudgets(p, new Date(now())).then(() => count(ctx, p));
    return count(ctx, p);
  });

  /** Counts the request in its buckets, or throws the 429 of the first without room for it. */
  function count(ctx: RequestContext, p: Principal): undefined | Promise<undefined> {
    const buckets = bucketsOf(p, ctx.model);
    const prompt = promptEstimate(ctx);
    const reserved = buckets.some((b) => b.tpm !== undefined) ? prompt + answerCap(ctx) : 0;
    const t = now();
    const a = deps.counters.admit(buckets, reserved, t);
    if (a instanceof Promise) return a.then((got) => decide(ctx, p, got, buckets, reserved, prompt, t));
    return decide(ctx, p, a, buckets, reserved, prompt, t);
  }

  function decide(ctx: RequestContext, p: Principal, a: Admission, buckets: Bucket[], reserved: number, prompt: number, t: number): undefined {
    const headers = rateLimitHeaders(a.states, a.window, t);
    if (!a.ok) {
      const waitMs = (a.window + 1) * WINDOW_MS - t;
      headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
      const b = a.refusedBy;
      const whose = b.id.startsWith('team:') ? 'team' : 'key';
      const message =
        a.what === 'requests'
          ? `Rate limit reached: ${b.rpm} requests per minute for this ${whose}${b.id.includes(':model:') ? ` on models ${b.id.split(':model:')[1]}` : ''}; try again in ${resetText(waitMs)}`
          : b.tpm !== undefined && reserved > b.tpm
            ? `This request needs up to ${reserved} tokens (prompt estimate + max_tokens), more than this ${whose}'s ${b.tpm} tokens per minute`
            : `Rate limit reached: ${b.tpm} tokens per minute for this ${whose}; this request needs up to ${reserved} tokens; try again in ${resetText(waitMs)}`;
      ctx.annotate('rateLimited', b.id.replace(/^key:[^:]+/, 'key'));
      throw tooMany('rate_limit_exceeded', message, headers);
    }
    Object.assign(ctx.responseHeaders, headers);
    state.set(ctx, { principal: p, buckets, window: a.window, reserved, promptEstimate: prompt, settled: false });
    return undefined;
  }

  async function checkBudgets(p: Principal, at: Date): Promise<void> {
    const checks: Array<['key' | 'team', string, NonNullable<Principal['budget']>]> = [];
    if (p.budget) checks.push(['key', p.keyId, p.budget]);
    if (p.team?.budget) checks.push(['team', p.team.id, p.team.budget]);
    if (!checks.length) return;
    let spent: number[];
    try {
      spent = await Promise.all(checks.map(([scope, id, b]) => deps.ledger.spentSince(scope, id, periodStart(b.period, at))));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'spend: the store did not answer a budget check');
      // As auth does: fail closed unless told to carry on with what this replica knows.
      if (deps.whenStoreDown === 'last-known') return;
      throw new GatewayError(
        'budget_unavailable',
        503,
        'The gateway cannot check this key’s budget right now (its store does not answer); try again shortly',
        {
          retryable: true,
          headers: { 'retry-after': '1' },
        },
      );
    }
    for (let i = 0; i < checks.length; i++) {
      const [scope, , b] = checks[i]!;
      if (spent[i]! < b.usd) continue;
      const per = b.period === 'total' ? 'in total' : `this ${b.period} (UTC)`;
      throw tooMany('budget_exceeded', `Budget exceeded: this ${scope} has spent $${round(spent[i]!)} of its $${b.usd} ${per}`, {});
    }
  }

  api.hooks.afterResponse.tap(AfterResponseStage.USAGE, (res, ctx) => {
    const a = state.get(ctx);
    if (!a || a.settled) return res;
    if (!res.stream) {
      const cost = account(ctx, a, res, undefined);
      if (res.status < 400) res.headers['x-waygate-cost'] = cost === undefined ? 'unknown' : String(round(cost));
      return res;
    }
    res.stream = accounted(res.stream, ctx, a, res);
    return res;
  });

  /**
   * Relays a stream and accounts for it when it ends (completed, failed, or abandoned by the client:
   * the consumer's `return()`). An iterator of its own rather than an async generator: one `then`
   * per event instead of a generator's suspension and resumption.
   */
  function accounted(inner: AsyncIterable<SSEEvent>, ctx: RequestContext, a: Admitted, res: GatewayResponse): AsyncIterable<SSEEvent> {
    // Characters of text relayed, for an estimate when the upstream reports no output count.
    let chars = 0;
    const settle = () => {
      if (!a.settled) account(ctx, a, res, chars);
    };
    // The callbacks are made once per stream, not once per event.
    const seen = (r: IteratorResult<SSEEvent>) => {
      if (r.done) settle();
      else if (ctx.usage?.completion_tokens === undefined) chars += textLength(r.value.data);
      return r;
    };
    const failed = (err: unknown) => {
      settle();
      throw err;
    };
    return {
      [Symbol.asyncIterator](): AsyncIterator<SSEEvent> {
        const it = inner[Symbol.asyncIterator]();
        return {
          next: () => it.next().then(seen, failed),
          return: (value?: unknown) => {
            settle();
            return it.return ? it.return(value) : Promise.resolve({ done: true, value: undefined });
          },
          throw: (err?: unknown) => {
            settle();
            if (it.throw) return it.throw(err);
            return Promise.reject(err);
          },
        };
      },
    };
  }

  /** Settles the counters and records the spend; returns the cost (undefined: unpriced). */
  function account(ctx: RequestContext, a: Admitted, res: GatewayResponse, streamedChars: number | undefined): number | undefined {
    a.settled = true;
    const fromUpstream = res.source === 'upstream' && res.status < 400;
    let tokens: Tokens = tokensOf(ctx.usage) ?? { input: 0, output: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 };
    let estimated = false;
    if (fromUpstream && streamedChars !== undefined && ctx.usage?.completion_tokens === undefined) {
      // The upstream reported no output count (a stream the client left, or one without usage): estimated, and flagged.
      estimated = true;
      tokens = { ...tokens, input: tokens.input || a.promptEstimate, output: Math.ceil(streamedChars / 4) };
    }
    const used = fromUpstream ? tokens.input + tokens.output : 0;
    if (a.buckets.length && used !== a.reserved) {
      deps.counters.settle(a.buckets, a.window, used - a.reserved).catch((err: Error) => log.warn({ err: err.message }, 'limits: could not settle'));
    }
    if (!fromUpstream) return 0;
    const model = ctx.model;
    const provider = ctx.target?.provider;
    const cost = deps.prices.cost(model, provider, tokens);
    if (cost === undefined) {
      ctx.annotate('costUsd', null);
      ctx.annotate('priceUnknown', true);
      const k = `${provider}/${model}`;
      if (!unpriced.has(k) && unpriced.size < 1000) {
        unpriced.add(k);
        log.warn({ model, provider }, "spend: no known price for this model (its cost is recorded as unknown); set one in the options' prices");
      }
    } else ctx.annotate('costUsd', round(cost));
    if (estimated) ctx.annotate('tokensEstimated', true);
    const p = a.principal;
    deps.ledger.record(
      {
        at: new Date(now()).toISOString(),
        key_id: p.keyId,
        team: p.team?.id ?? null,
        model: model ?? null,
        provider: provider ?? null,
        endpoint: ctx.endpoint,
        prompt_tokens: tokens.input,
        completion_tokens: tokens.output,
        cached_tokens: tokens.cachedRead,
        reasoning_tokens: tokens.reasoning,
        cost_usd: cost ?? null,
        estimated,
      },
      p.budget !== null || !!p.team?.budget,
    );
    return cost;
  }
}

/** Rounded to 1e-10 USD: what the header and log show. */
function round(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}

/**
 * The keys whose string values are text an answer streams: OpenAI's delta `content` and
 * `reasoning_content` (one search for `content":` after `"` or `_` finds both), and, in Anthropic's
 * events (which start with `{"type":`), `text` and `thinking`.
 */
const OPENAI_TEXT = ['content":'];
const ANTHROPIC_TEXT = ['"text":', '"thinking":'];

/**
 * The characters of text an event carries, for estimates: the string values of those keys, found
 * with indexOf rather than a JSON.parse per event (escapes count as their two characters: an
 * estimate). A key inside a string value is escaped (`\"content\":`), so it is not matched.
 */
export function textLength(data: string): number {
  let n = 0;
  for (const field of data.startsWith('{"type":') ? ANTHROPIC_TEXT : OPENAI_TEXT) {
    let at = data.indexOf(field);
    while (at !== -1) {
      let start = at + field.length;
      const before = data.charCodeAt(at - 1);
      if (field === 'content":' && before !== 34 && before !== 95) {
        at = data.indexOf(field, start);
        continue;
      }
      if (data.charCodeAt(start) === 32) start++;
      if (data.charCodeAt(start) !== 34) {
        at = data.indexOf(field, start);
        continue;
      }
      const end = stringEnd(data, start + 1);
      n += end - start - 1;
      at = data.indexOf(field, end);
    }
  }
  return n;
}

/** Where the JSON string that starts at `from` ends (its closing quote: one not escaped), or the text's end. */
function stringEnd(data: string, from: number): number {
  for (let q = data.indexOf('"', from); q !== -1; q = data.indexOf('"', q + 1)) {
    let slashes = 0;
    while (data.charCodeAt(q - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return data.length;
}
