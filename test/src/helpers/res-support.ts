// Support for the resilience suite (resilience.test.ts): a gateway with every routing and policy
// plugin listed explicitly (so the retry plugin can get fast backoff options), OpenAI SDK clients
// that carry a routing config, config builders, and small timing and SSE helpers.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import type { ClientOptions } from 'openai';
import { startGateway } from '@waygate/core';
import type { ConfigNode, Gateway } from '@waygate/core';
import type { FakeOpenAI } from '../fakes/index.js';
import { LogCapture, readSSE } from './api-support.js';
import type { SSEResult } from './api-support.js';

export const KEY = 'sk-resilience-client-key';
export const MODEL = 'gpt-4o-mini';
export const MESSAGES = [{ role: 'user' as const, content: 'Say hello to the gateway' }];

/** Backoff options for the retry plugin: retries within a few ms, so tests measure only what they mean to. */
export const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

/** The packages the resilience gateway loads, by npm name, and where each lives in this repository. */
const PACKAGES: Record<string, string> = {
  '@waygate/provider-openai': 'providers/openai',
  '@waygate/strategy-single': 'plugins/strategy-single',
  '@waygate/strategy-fallback': 'plugins/strategy-fallback',
  '@waygate/strategy-loadbalance': 'plugins/strategy-loadbalance',
  '@waygate/strategy-conditional': 'plugins/strategy-conditional',
  '@waygate/retry': 'plugins/retry',
  '@waygate/circuit-breaker': 'plugins/circuit-breaker',
};
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The module specifier for a package: its npm name when it resolves (the workspace link exists),
 * else its built entry point in this repository (a package added after the last `npm install`).
 */
export function pluginModule(name: string): string {
  try {
    require.resolve(name);
    return name;
  } catch {
    const dir = PACKAGES[name];
    const entry = dir && `${ROOT}${dir}/dist/src/index.js`;
    if (entry && existsSync(entry)) return entry;
    return name; // let the loader report it
  }
}

export interface ResGatewayOptions {
  /** Options of @waygate/circuit-breaker; absent: the breaker is not loaded. */
  breaker?: Record<string, unknown>;
  /** Options of @waygate/retry (default FAST_RETRY). */
  retry?: Record<string, unknown>;
  logs?: LogCapture;
}

/** The plugin list: OpenAI's endpoints and provider, every strategy, the retry policy with fast backoff, and the breaker if asked for. */
export function resiliencePlugins(opts: ResGatewayOptions = {}): Array<string | { module: string; options?: unknown }> {
  const plugins: Array<string | { module: string; options?: unknown }> = [
    pluginModule('@waygate/openai-api'),
    pluginModule('@waygate/provider-openai'),
    pluginModule('@waygate/strategy-single'),
    pluginModule('@waygate/strategy-fallback'),
    pluginModule('@waygate/strategy-loadbalance'),
    pluginModule('@waygate/strategy-conditional'),
    { module: pluginModule('@waygate/retry'), options: opts.retry ?? FAST_RETRY },
  ];
  if (opts.breaker) plugins.push({ module: pluginModule('@waygate/circuit-breaker'), options: opts.breaker });
  return plugins;
}

/** Starts an in-process gateway on an ephemeral loopback port with the resilience plugins. */
export async function startResGateway(opts: ResGatewayOptions = {}): Promise<Gateway> {
  return startGateway({
    config: { defaultPlugins: false, plugins: resiliencePlugins(opts) },
    port: 0,
    host: '127.0.0.1',
    logger: (opts.logs ?? new LogCapture('silent')).logger,
  });
}

/** A leaf that targets a fake upstream (the client's bearer key is the provider key). */
export function leaf(fake: FakeOpenAI | string, extra: Partial<ConfigNode> = {}): ConfigNode {
  return { provider: 'openai', custom_host: typeof fake === 'string' ? fake : fake.baseURL, ...extra };
}

export function fallback(targets: ConfigNode[], extra: Partial<ConfigNode> = {}): ConfigNode {
  return { strategy: { mode: 'fallback' }, targets, ...extra };
}

/** An OpenAI SDK client (no SDK retries) whose requests carry a routing config. */
export function client(
  gw: Gateway,
  config: ConfigNode,
  opts: { dialect?: 'waygate' | 'portkey'; headers?: Record<string, string>; client?: Partial<ClientOptions> } = {},
): OpenAI {
  const configHeader = opts.dialect === 'portkey' ? 'x-portkey-config' : 'x-waygate-config';
  return new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: KEY,
    maxRetries: 0,
    timeout: 20_000,
    ...opts.client,
    defaultHeaders: { [configHeader]: JSON.stringify(config), ...opts.headers },
  });
}

/** A plain chat request. */
export function chat(c: OpenAI, requestOpts: OpenAI.RequestOptions = {}) {
  return c.chat.completions.create({ model: MODEL, messages: MESSAGES }, requestOpts);
}

/** A streamed chat request; `.asResponse()` gives the raw SSE answer. */
export function chatStream(c: OpenAI, requestOpts: OpenAI.RequestOptions = {}) {
  return c.chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true }, requestOpts);
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  expect.fail('expected the call to fail, but it succeeded');
}

/** Runs fn and returns its result with the wall time it took (ms). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every fake has no request in progress (bounded: a wait that only ends on its own would fail). */
export async function expectIdle(fakes: FakeOpenAI[], withinMs = 1500): Promise<void> {
  await Promise.all(fakes.map((f) => f.waitForIdle(withinMs)));
  for (const f of fakes) expect(f.activeRequests(), 'requests still running upstream').to.equal(0);
}

/** A streamed answer read off the wire: each event's data, parsed where it is JSON. */
export interface StreamReading extends SSEResult {
  /** Parsed chat chunks (events that are JSON and not errors). */
  chunks: OpenAI.ChatCompletionChunk[];
  /** Chunks that carry a role. */
  roleChunks: number;
  /** The assistant text. */
  content: string;
  /** The terminal error event's error, if the stream ended with one. */
  terminalError?: { message: string; type: string; code: string | null };
  done: boolean;
}

/** Reads an SSE response to its end and sorts out what it carried. */
export async function readStream(res: Response): Promise<StreamReading> {
  const sse = await readSSE(res);
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  let terminalError: StreamReading['terminalError'];
  for (const data of sse.data) {
    if (data === '[DONE]') continue;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      continue;
    }
    const err = (json as { error?: StreamReading['terminalError'] }).error;
    if (err) terminalError = err;
    else chunks.push(json as OpenAI.ChatCompletionChunk);
  }
  return {
    ...sse,
    chunks,
    roleChunks: chunks.filter((c) => c.choices?.some((ch) => ch.delta?.role !== undefined)).length,
    content: chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''),
    terminalError,
    done: sse.data.at(-1) === '[DONE]',
  };
}
