/**
 * @waygate/core/testing: support for plugin packages' own tests (not loaded by the gateway). A real
 * kernel with fake providers and no server, request contexts, a seeded random source, a tiny
 * OpenAI-shaped loopback upstream for end-to-end checks through a gateway, and for packages that use
 * Redis: the REDIS_URL check with the CI rule, key clean-up, and a TCP proxy to play an outage.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kernel } from '../kernel.js';
import { RequestContext, own } from '../context.js';
import { configFromObject } from '../config.js';
import { createLogger } from '../logger.js';
import { loadPlugins } from '../loader.js';
import { strategyModes as modesOf } from '../hooks.js';
import type { ConfigNode, PlannedTarget } from '../types.js';
import type { Plugin } from '../plugin.js';
import type { FileConfigInput } from '../config.js';

/** Provider slugs the fake kernel knows; each has a base URL `https://<slug>.example/v1`. */
export const FAKE_PROVIDERS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

export const silent = createLogger({ level: 'silent' });

/**
 * A kernel with fake providers registered and no plugins; hooks are not sealed, so tests can tap and
 * call them. `config` adds to the config file (`{ egress: { private: 'deny' } }` for an egress policy).
 */
export function newKernel(config: Omit<FileConfigInput, 'defaultPlugins'> = {}): Kernel {
  const kernel = new Kernel(configFromObject({ defaultPlugins: false, ...config }, process.cwd(), {}), silent);
  const api = kernel.apiFor('@waygate/core-testing');
  for (const id of FAKE_PROVIDERS) api.register.provider({ id, baseURL: `https://${id}.example/v1`, endpoints: {} });
  return kernel;
}

/** Sets up one plugin on a kernel, as the loader does (its own API view, options parsed by its schema). */
export async function use(kernel: Kernel, plugin: Plugin, options: unknown = {}): Promise<void> {
  await plugin.setup(kernel.apiFor(plugin.manifest.name), plugin.configSchema ? plugin.configSchema.parse(options) : options);
}

/** A kernel with fake providers and the given plugins loaded by name, through the real loader. */
export async function kernelWithPlugins(specs: string[], baseDir = process.cwd()): Promise<Kernel> {
  const kernel = newKernel();
  await loadPlugins(kernel, specs, baseDir, 5000);
  return kernel;
}

export interface CtxInit {
  metadata?: Record<string, unknown>;
  body?: Record<string, unknown>;
  path?: string;
  headers?: Record<string, string>;
}

export function makeCtx(kernel: Kernel, config: ConfigNode, init: CtxInit = {}): RequestContext {
  const ctx = new RequestContext({
    id: 'req-test',
    endpoint: 'chat.completions',
    method: 'POST',
    path: init.path ?? '/v1/chat/completions',
    headers: init.headers ?? {},
    body: init.body ?? { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  });
  // A test stands in for the HTTP layer here: it sets what resolving the request's config would.
  own(ctx).config = config;
  if (init.metadata) own(ctx).metadata = init.metadata;
  return ctx;
}

/** Plans a config for a fresh request; returns the context (with ctx.plan set) and the targets. */
export function plan(kernel: Kernel, config: ConfigNode, init: CtxInit = {}): { ctx: RequestContext; targets: PlannedTarget[] } {
  const ctx = makeCtx(kernel, config, init);
  return { ctx, targets: kernel.plan(ctx).targets };
}

export const paths = (targets: PlannedTarget[]): string[] => targets.map((t) => t.path);

/**
 * Write access to a request's kernel-owned fields, for a test that stands in for the kernel (sets the
 * target an attempt is on, the retry count). Plugins never get this.
 */
export { own as kernelOwned } from '../context.js';

/** The strategy modes tapped on a kernel's selectTarget hook. */
export function strategyModes(kernel: Kernel): readonly string[] {
  return modesOf(kernel.hooks);
}

/** What a function throws (fails the test if it returns). */
export function thrown(fn: () => unknown): Error & { status?: number; code?: string; param?: string | null } {
  try {
    fn();
  } catch (err) {
    return err as Error & { status?: number; code?: string; param?: string | null };
  }
  throw new Error('expected an error, but the call returned');
}

/** mulberry32: a small seeded PRNG in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A tiny OpenAI-shaped upstream. Each target points its custom_host at `<url>/<name>`; `status[name]`
 * says how that name answers (default 200). Every hit is recorded as `<name>`.
 */
export class Upstream {
  readonly hits: string[] = [];
  status: Record<string, number> = {};
  delayMs: Record<string, number> = {};
  #server!: http.Server;
  url = '';

  static async start(): Promise<Upstream> {
    const u = new Upstream();
    u.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const name = (req.url ?? '/').split('/')[1] ?? '';
        u.hits.push(name);
        const status = u.status[name] ?? 200;
        const body =
          status < 400
            ? {
                id: 'c1',
                object: 'chat.completion',
                model: name,
                choices: [{ index: 0, message: { role: 'assistant', content: `from ${name}` }, finish_reason: 'stop' }],
              }
            : { error: { message: `${name} failed with ${status}`, type: 'server_error' } };
        const send = () => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        const delay = u.delayMs[name];
        if (delay) setTimeout(send, delay);
        else send();
      });
    });
    await new Promise<void>((resolve) => u.#server.listen(0, '127.0.0.1', resolve));
    u.url = `http://127.0.0.1:${(u.#server.address() as AddressInfo).port}`;
    return u;
  }

  /** A leaf that calls this upstream under `name`. */
  leaf(name: string, extra: Record<string, unknown> = {}): ConfigNode {
    return { provider: 'openai', api_key: `sk-${name}`, custom_host: `${this.url}/${name}`, name, ...extra };
  }

  reset(): void {
    this.hits.length = 0;
    this.status = {};
    this.delayMs = {};
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** POSTs a chat completion through a gateway with a routing config header. */
export async function chat(
  gatewayUrl: string,
  config: ConfigNode,
  headers: Record<string, string> = {},
  body: Record<string, unknown> = { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  route = '/v1/chat/completions',
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(gatewayUrl + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(config), ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

export { BUNDLED_PLUGINS } from '../bundled.js';
export { fixtures } from './fixtures.js';
export type { FixtureReader } from './fixtures.js';
export { runProviderConformance } from './conformance.js';
export { OpenAIFake, portkeyChat } from './openai-fake.js';
export type { ConformanceFixture, RecordedAnswer, RecordedStream, ExpectedAnswer, UpstreamExpectations, Scenario } from './conformance.js';
export { REDIS_URL, RespClient, deletePrefix, redisUnreachable, requireRedis, useRedis } from './redis.js';
export type { RespReply } from './redis.js';
export { TcpProxy } from './tcp-proxy.js';
export { LogCapture, eventually, sleep } from './waiting.js';
