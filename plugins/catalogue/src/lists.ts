import type { ConfigNode, PluginApi } from '@waygate/core';
import type { ModelEntry } from './shapes.js';
import { entriesOf } from './shapes.js';

/** A leaf's keys that are routing policy, not how to reach the provider: left out of a list fetch's config. */
const POLICY = new Set([
  'override_params',
  'retry',
  'cache',
  'request_timeout',
  'stream_idle_timeout',
  'deadline',
  'hooks',
  'input_guardrails',
  'output_guardrails',
  'before_request_hooks',
  'after_request_hooks',
  'name',
  'weight',
]);

/** A failed fetch is remembered at most this long, so a provider that is down is not asked on every request. */
const MAX_FAILURE_TTL_MS = 10_000;

interface Entry {
  until: number;
  list: Promise<ModelEntry[] | undefined>;
}

/**
 * Each provider's model list, fetched through the whole house (a sub-request to `GET /v1/models`
 * with the leaf that reaches it, so the provider's own adapter maps it), bounded by `timeoutMs`,
 * kept `ttlMs` per leaf; concurrent callers share one fetch. A failure (an error answer, a timeout,
 * a malformed list) is logged and the provider is left out (`undefined`).
 */
export class ListCache {
  readonly #api: PluginApi;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #byLeaf = new WeakMap<ConfigNode, Entry>();

  constructor(api: PluginApi, ttlMs: number, timeoutMs: number) {
    this.#api = api;
    this.#ttlMs = ttlMs;
    this.#timeoutMs = timeoutMs;
  }

  get(provider: string, leaf: ConfigNode): Promise<ModelEntry[] | undefined> {
    const now = Date.now();
    const hit = this.#byLeaf.get(leaf);
    if (hit && hit.until > now) return hit.list;
    const entry: Entry = { until: Number.POSITIVE_INFINITY, list: this.#fetch(provider, leaf) };
    this.#byLeaf.set(leaf, entry);
    void entry.list.then((l) => {
      entry.until = Date.now() + (l ? this.#ttlMs : Math.min(this.#ttlMs, MAX_FAILURE_TTL_MS));
    });
    return entry.list;
  }

  async #fetch(provider: string, leaf: ConfigNode): Promise<ModelEntry[] | undefined> {
    const node: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(leaf)) if (!POLICY.has(k)) node[k] = v;
    // The gateway's own key for the provider, named in the config so a custom host can go with it.
    node.api_key ??= this.#api.config.providers[provider]?.api_key;
    const headers = { 'x-waygate-config': JSON.stringify(node), 'x-waygate-request-timeout': String(this.#timeoutMs) };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      const res = await Promise.race([this.#api.subrequest({ endpoint: 'models', path: '/v1/models', headers, body: {} }), timeout]);
      if (res.status !== 200) {
        const err = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
        throw new Error(`status ${res.status}${typeof err?.code === 'string' ? ` (${err.code})` : ''}`);
      }
      const list = entriesOf(provider, res.body);
      if (!list) throw new Error('the answer is not a model list');
      return list;
    } catch (err) {
      this.#api.logger.warn({ provider, err: (err as Error).message }, 'catalogue: a provider model list could not be fetched; it is left out');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
