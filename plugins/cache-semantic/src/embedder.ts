import { createHash } from 'node:crypto';
import { canonicalJson } from '@waygate/cache-engine';
import type { ConfigNode, PluginApi, RequestContext } from '@waygate/core';
import { normalize } from './vector-index.js';

/** The embeddings target named in the plugin's options. */
export interface EmbeddingTarget {
  provider: string;
  model: string;
  /** Asked of providers that can shorten their vectors (OpenAI's text-embedding-3 models). */
  dimensions?: number;
  api_key?: string;
  custom_host?: string;
  /** Any other routing-config key of a leaf (provider options such as `resource_name`, `aws_region`; `retry`). */
  [option: string]: unknown;
}

/** The plugin that makes the embeddings calls: its taps leave its own sub-requests alone. */
export const SUB_REQUEST = '@waygate/cache-semantic';

export class EmbeddingError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'EmbeddingError';
  }
}

/** Keys of the embedding config that do not change the vectors (left out of the embedder's identity). */
const NOT_IDENTITY = new Set(['api_key', 'request_timeout', 'retry', 'deadline', 'stream_idle_timeout', 'forward_headers']);

/**
 * Embeds prompt text by sending an `embeddings` request through the kernel itself, so every
 * provider adapter with an embeddings endpoint works, with the kernel's timeouts, retries and abort.
 * The request carries the embedding target as its routing config and nothing of the client's
 * (no headers, so never the client's key). A small LRU keeps recent vectors by text hash.
 */
export class Embedder {
  /** A short hash of what decides the vectors (provider, host, model, dimensions, provider options). */
  readonly id: string;
  readonly #api: PluginApi;
  readonly #model: string;
  readonly #dimensions: number | undefined;
  readonly #headers: Record<string, string>;
  readonly #recent = new Map<string, Float32Array>();
  readonly #recentMax: number;

  constructor(api: PluginApi, target: EmbeddingTarget, opts: { timeoutMs: number; recentMax?: number }) {
    this.#api = api;
    const { model, dimensions, ...rest } = target;
    this.#model = model;
    this.#dimensions = dimensions;
    this.#recentMax = opts.recentMax ?? 1024;
    const node: ConfigNode = { ...rest, provider: target.provider };
    node.request_timeout ??= opts.timeoutMs;
    // The gateway's own key for the provider, put in the node here: the config file holds both, and a
    // custom host with the server's key is refused only when the host came from a request.
    const server = api.config.providers[target.provider];
    if (node.api_key === undefined && server?.api_key !== undefined) node.api_key = server.api_key;
    this.#headers = { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(node) };
    const identity: Record<string, unknown> = { model, dimensions };
    for (const k of Object.keys(node)) if (!NOT_IDENTITY.has(k)) identity[k] = node[k];
    this.id = createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
  }

  /**
   * The unit vector for `text`. `parent` is the client's request: the call is aborted when that
   * client goes away, and shares its trace id. Throws an EmbeddingError when no vector came back.
   */
  async embed(text: string, key: string, parent?: RequestContext): Promise<Float32Array> {
    const known = this.#recent.get(key);
    if (known) {
      this.#recent.delete(key);
      this.#recent.set(key, known);
      return known;
    }
    const body: Record<string, unknown> = { model: this.#model, input: text };
    if (this.#dimensions !== undefined) body.dimensions = this.#dimensions;
    if (parent?.aborted) throw new EmbeddingError('the client closed the request');
    // Through the whole house, as this plugin's sub-request: aborted with the client, same trace id.
    const res = await this.#api.subrequest({ endpoint: 'embeddings', path: '/v1/embeddings', headers: { ...this.#headers }, body, parent });
    if (res.status >= 400 || res.stream) {
      const err = (res.body as { error?: { message?: unknown } } | undefined)?.error;
      const why = typeof err?.message === 'string' ? err.message : `status ${res.status}`;
      throw new EmbeddingError(`the embeddings call failed (${res.status}): ${why}`, res.status);
    }
    const vector = vectorOf(res.body);
    if (!vector) throw new EmbeddingError('the embeddings answer holds no usable vector');
    this.#recent.set(key, vector);
    if (this.#recent.size > this.#recentMax) this.#recent.delete(this.#recent.keys().next().value!);
    return vector;
  }
}

/** Whether a request context is the semantic cache's own embeddings call. */
export function isSubRequest(ctx: RequestContext): boolean {
  return ctx.madeBy === SUB_REQUEST;
}

/** The first vector of an OpenAI-format embeddings answer (float array or base64 float32), normalized. */
export function vectorOf(body: unknown): Float32Array | undefined {
  const first = (body as { data?: Array<{ embedding?: unknown }> } | undefined)?.data?.[0]?.embedding;
  if (Array.isArray(first)) {
    for (const x of first) if (typeof x !== 'number') return undefined;
    return normalize(first as number[]);
  }
  if (typeof first === 'string') {
    const buf = Buffer.from(first, 'base64');
    if (buf.length === 0 || buf.length % 4 !== 0) return undefined;
    const v = new Float32Array(buf.length / 4);
    for (let i = 0; i < v.length; i++) v[i] = buf.readFloatLE(4 * i);
    return normalize(v);
  }
  return undefined;
}
