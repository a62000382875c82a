/**
 * Checks that call out: webhook (your service decides, and may rewrite the request or answer), log
 * (your collector gets a copy) and validUrls (the URLs in the text answer). Every call has a time
 * limit and is cancelled when the client goes away; none sends the incoming request's headers, and
 * none follows redirects or reaches a cloud metadata address. Every call goes through the gateway's
 * egress policy (`input.egress`): a URL whose host resolves to an address it refuses is not called.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckInput } from '@waygate/guardrails';

type Egress = CheckInput['egress'];
import {
  headersParam,
  httpUrl,
  isPlainObject,
  not,
  outboundUrlProblem,
  portkeyRequestType,
  postJson,
  safeOrigin,
  send,
  textOf,
  timeoutMs,
} from './common.js';

/**
 * What a webhook or log collector receives: the request's JSON and text, the answer's after the
 * call, the event (`beforeRequestHook` / `afterRequestHook`, Portkey's names), the endpoint (as
 * Waygate's id and Portkey's request type), the metadata and the provider. Never headers.
 */
export function hookPayload(input: CheckInput<unknown>): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    request: { json: input.request.json ?? null, text: input.request.text, isStreamingRequest: input.ctx?.stream === true },
    eventType: input.hook === 'beforeRequest' ? 'beforeRequestHook' : 'afterRequestHook',
    requestType: portkeyRequestType(input.endpoint),
    endpoint: input.endpoint,
    metadata: input.metadata,
    provider: input.provider ?? null,
  };
  if (input.response) payload.response = { json: input.response.json ?? null, text: input.response.text, statusCode: input.response.status };
  return payload;
}

/**
 * POSTs the context to `webhookURL` (with only the configured `headers`) and applies its answer,
 * `{"verdict": boolean, "transformedData"?: {"request"?: {"json"}, "response"?: {"json"}}, "data"?}`:
 * the verdict is the check's, and the transformed JSON of this side of the call replaces the body.
 * A non-2xx answer, an answer without a boolean verdict, or no answer within `timeout` ms (default
 * 3000) throws, so the guardrail fails closed.
 */
export const webhook = defineCheck({
  id: 'webhook',
  mutates: true,
  params: z.strictObject({ webhookURL: httpUrl, headers: headersParam, timeout: timeoutMs }),
  async run(input) {
    const { params } = input;
    const where = safeOrigin(params.webhookURL);
    const res = await postJson(input.egress, params.webhookURL, hookPayload(input), params.headers, params.timeout, input.signal);
    if (res.status < 200 || res.status > 299) throw new Error(`the webhook at ${where} answered ${res.status}`);
    let answer: unknown;
    try {
      answer = JSON.parse(res.text);
    } catch {
      throw new Error(`the webhook at ${where} answered with a body that is not JSON`);
    }
    if (!isPlainObject(answer) || typeof answer.verdict !== 'boolean') throw new Error(`the webhook at ${where} answered without a boolean "verdict"`);
    const side = input.hook === 'beforeRequest' ? 'request' : 'response';
    const transformed = isPlainObject(answer.transformedData) ? answer.transformedData[side] : undefined;
    const json = isPlainObject(transformed) ? transformed.json : undefined;
    return {
      verdict: answer.verdict,
      data: {
        explanation: `The webhook at ${where} ${answer.verdict ? 'passed' : 'failed'} the ${side}${isPlainObject(json) ? ' and rewrote it' : ''}.`,
        webhook: where,
        ...(answer.data !== undefined ? { responseData: answer.data } : {}),
      },
      ...(isPlainObject(json) ? { transformedJson: json } : {}),
    };
  },
});

/**
 * POSTs the context to `logURL` (with only the configured `headers`, within `timeout` ms). The
 * verdict is always true: a collector that is down never blocks traffic; `data.logged` says
 * whether it took the entry.
 */
export const log = defineCheck({
  id: 'log',
  params: z.strictObject({ logURL: httpUrl, headers: headersParam, timeout: timeoutMs }),
  async run(input) {
    const { params } = input;
    const where = safeOrigin(params.logURL);
    try {
      const res = await postJson(input.egress, params.logURL, hookPayload(input), params.headers, params.timeout, input.signal);
      const logged = res.status >= 200 && res.status <= 299;
      return { verdict: true, data: { explanation: logged ? `Logged to ${where}.` : `${where} answered ${res.status}.`, logged, status: res.status } };
    } catch (err) {
      return { verdict: true, data: { explanation: `Not logged: ${(err as Error).message}.`, logged: false } };
    }
  },
});

// ---------------------------------------------------------------------------------------------
// validUrls

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`{}|\\^[\]]+/gi;

/** The distinct http(s) URLs in a text, without the punctuation that usually follows one. */
export function extractUrls(text: string): string[] {
  const out = new Set<string>();
  URL_IN_TEXT.lastIndex = 0;
  for (let m = URL_IN_TEXT.exec(text); m; m = URL_IN_TEXT.exec(text)) {
    let url = m[0];
    for (;;) {
      const last = url[url.length - 1]!;
      if ('.,;:!?*_~'.includes(last)) url = url.slice(0, -1);
      else if (last === ')' && count(url, '(') < count(url, ')')) url = url.slice(0, -1);
      else break;
    }
    out.add(url);
  }
  return [...out];
}

function count(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/** Whether a URL answers: HEAD (GET when HEAD is not allowed), any status below 400, redirects not followed. */
async function answers(egress: Egress, url: string, timeout: number, signal: AbortSignal): Promise<boolean> {
  if (outboundUrlProblem(url, egress.check)) return false;
  try {
    let res = await send(egress, url, { method: 'HEAD' }, timeout, signal);
    if (res.status === 405 || res.status === 501) {
      await res.body?.cancel();
      res = await send(egress, url, { method: 'GET' }, timeout, signal);
    }
    await res.body?.cancel();
    return res.status < 400;
  } catch {
    return false;
  }
}

/** Whether a URL's host name resolves (node's resolver, the system's DNS); IP literals need no lookup. */
async function resolves(egress: Egress, url: string, timeout: number, signal: AbortSignal): Promise<boolean> {
  if (outboundUrlProblem(url, egress.check)) return false;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return true;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      lookup(host).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeout);
        onAbort = () => resolve(false);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of the results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Every http(s) URL in the text answers (HEAD, or GET when HEAD is refused; a status below 400;
 * each within `timeout` ms), or with `onlyDNS` its host name resolves. A URL to a cloud metadata
 * or link-local address, or one the egress policy refuses (a literal address by its text, a name by
 * what it resolves to), counts as invalid and is never called. More than `maxUrls` distinct URLs
 * fail the check rather than go unchecked. `not` inverts. A text without URLs fails, with or without
 * `not`: that is Portkey's verdict (its code; its manifest only says what `not` does with URLs).
 */
export const validUrls = defineCheck({
  id: 'validUrls',
  params: z.strictObject({
    onlyDNS: z.boolean().default(false),
    not,
    timeout: timeoutMs,
    maxUrls: z.number().int().min(1).max(200).default(20),
  }),
  async run({ params, signal, egress, ...input }) {
    const urls = extractUrls(textOf(input));
    if (urls.length === 0) {
      return { verdict: false, data: { explanation: 'The text has no URLs.', onlyDNS: params.onlyDNS, validUrls: [], invalidUrls: [] } };
    }
    if (urls.length > params.maxUrls) {
      return {
        verdict: params.not,
        data: { explanation: `The text has ${urls.length} URLs, more than maxUrls (${params.maxUrls}); none was checked.`, urls: urls.length },
      };
    }
    const check = params.onlyDNS ? resolves : answers;
    const ok = await mapLimit(urls, 8, (u) => check(egress, u, params.timeout, signal));
    const validUrls = urls.filter((_, i) => ok[i]);
    const invalidUrls = urls.filter((_, i) => !ok[i]);
    const all = invalidUrls.length === 0;
    return {
      verdict: all !== params.not,
      data: {
        explanation: all ? `All ${urls.length} URLs are valid.` : `${invalidUrls.length} of ${urls.length} URLs are not valid.`,
        onlyDNS: params.onlyDNS,
        validUrls,
        invalidUrls,
      },
    };
  },
});
