/**
 * Support for the kernel's unit tests: a loopback HTTP upstream the tests script answer by answer,
 * a tiny provider adapter whose endpoint calls it, and a small OpenAI-like chat endpoint of the
 * tests' own (the core defines no endpoint, and its tests load no plugin). Real sockets throughout.
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kernel } from '../../src/kernel.js';
import type { EndpointAdapter, EndpointDefinition, StreamFormat } from '../../src/contracts.js';
import type { ConfigNode, Endpoint } from '../../src/types.js';
import { RequestContext, own } from '../../src/context.js';
import { SelectTargetStage } from '../../src/hooks.js';
import { ErrorCode, GatewayError } from '../../src/errors.js';
import { DONE } from '../../src/sse.js';
import { openAIUsage } from '../../src/endpoints.js';
import { newKernel } from '../../src/testing/index.js';

/** How the upstream answers one request: a status (a canned JSON body), or a handler of its own. */
export type Reply = number | ((req: IncomingMessage, res: ServerResponse, body: string) => void);

export interface Hit {
  /** The first path segment: the target's name (its custom_host is `<url>/<name>`). */
  name: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Never answers: the request hangs until the client gives up or the server closes. */
export const HANG: Reply = () => undefined;

/**
 * A loopback upstream. Each name answers with its script of replies in order, the last one
 * repeating (default: 200). Every request is recorded as a hit.
 */
export class Loopback {
  readonly hits: Hit[] = [];
  url = '';
  readonly #scripts = new Map<string, Reply[]>();
  readonly #served = new Map<string, number>();
  #server!: http.Server;

  static async start(): Promise<Loopback> {
    const lb = new Loopback();
    lb.#server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        const name = (req.url ?? '/').split('/')[1] ?? '';
        lb.hits.push({ name, url: req.url ?? '', headers: req.headers, body });
        const script = lb.#scripts.get(name) ?? [200];
        const n = lb.#served.get(name) ?? 0;
        lb.#served.set(name, n + 1);
        const reply = script[Math.min(n, script.length - 1)]!;
        if (typeof reply === 'function') return reply(req, res, body);
        const json =
          reply < 400
            ? {
                id: `c-${name}`,
                object: 'chat.completion',
                model: name,
                choices: [{ index: 0, message: { role: 'assistant', content: `from ${name}` }, finish_reason: 'stop' }],
              }
            : { error: { message: `${name} failed with ${reply}`, type: 'server_error' } };
        res.writeHead(reply, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => lb.#server.listen(0, '127.0.0.1', resolve));
    lb.url = `http://127.0.0.1:${(lb.#server.address() as AddressInfo).port}`;
    return lb;
  }

  /** Scripts how `name` answers, request by request; the last reply repeats. */
  reply(name: string, ...replies: Reply[]): this {
    this.#scripts.set(name, replies);
    this.#served.set(name, 0);
    return this;
  }

  /** The names hit, in order. */
  names(): string[] {
    return this.hits.map((h) => h.name);
  }

  /** A leaf calling this upstream under `name` through the test provider. */
  leaf(name: string, extra: Partial<ConfigNode> = {}): ConfigNode {
    return { provider: LOOP, api_key: `sk-${name}`, custom_host: `${this.url}/${name}`, name, ...extra };
  }

  reset(): void {
    this.hits.length = 0;
    this.#scripts.clear();
    this.#served.clear();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Writes an SSE answer: each string is one event's data. `end: false` leaves the response open. */
export function sse(events: string[], opts: { end?: boolean; headers?: Record<string, string> } = {}): Reply {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', ...opts.headers });
    for (const data of events) res.write(`data: ${data}\n\n`);
    if (opts.end !== false) res.end();
  };
}

/** One OpenAI-style chat chunk. */
export function chunk(delta: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: null }], ...extra });
}
/** OpenAI's opening chunk: the role only, no content. */
export const ROLE = chunk({ role: 'assistant', content: '' });

/** The slug of the test provider. */
export const LOOP = 'loop';

/** The test provider's chat endpoint: POSTs the body (the client's bytes when offered) to `<baseURL>/chat/completions`. */
export function loopEndpoint(extra: Partial<EndpointAdapter> = {}): EndpointAdapter {
  return {
    build: (input) => ({
      url: `${input.target.baseURL}/chat/completions`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${input.target.apiKey ?? ''}` },
      body: input.rawBody ?? JSON.stringify(input.body ?? {}),
    }),
    ...extra,
  };
}

/**
 * An OpenAI-like chat stream format: a role-only chunk is a preamble (not content), `[DONE]` ends
 * the stream, a `{"error":...}` event is an upstream error event, and a chunk's `usage` is read.
 */
export const CHAT_STREAM: StreamFormat = {
  isContent(ev) {
    if (ev.data === DONE) return true;
    try {
      const c = JSON.parse(ev.data) as { choices?: Array<{ delta?: Record<string, unknown>; finish_reason?: unknown }> };
      const choice = c.choices?.[0];
      if (!choice || choice.finish_reason) return true;
      return Object.entries(choice.delta ?? {}).some(([k, v]) => k !== 'role' && v !== '' && v != null);
    } catch {
      return true;
    }
  },
  isEnd: (ev) => ev.data === DONE,
  errorOf(ev, provider) {
    if (!ev.data.startsWith('{"error"')) return undefined;
    const message = (JSON.parse(ev.data) as { error?: { message?: string } }).error?.message ?? 'error event';
    return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `${provider} sent an error event: ${message}`, { retryable: true });
  },
  errorEvent: (err) => ({ data: JSON.stringify(err.toBody()) }),
  usage(ev) {
    if (!ev.data.includes('"usage"')) return undefined;
    return openAIUsage(JSON.parse(ev.data));
  },
};

export const CHAT: EndpointDefinition = { id: 'chat.completions', routes: [{ method: 'POST', path: '/v1/chat/completions' }], stream: CHAT_STREAM };

/** The strategy mode the test kernel taps: every child, in order. */
export const ORDERED = 'ordered';

/**
 * A bare kernel (fake providers, no plugins) with the test provider (its chat endpoint, `adapter`
 * merged over the default), the test chat endpoint, and the `ordered` strategy.
 */
export function loopKernel(adapter: Partial<EndpointAdapter> = {}, endpoint: EndpointDefinition = CHAT): Kernel {
  const kernel = newKernel();
  const api = kernel.apiFor('test-kit');
  api.register.endpoint(endpoint);
  api.register.provider({ id: LOOP, endpoints: { [endpoint.id]: loopEndpoint(adapter) } });
  api.hooks.selectTarget.for(ORDERED).tap(SelectTargetStage.STRATEGY, (node, _ctx, expand) => (node.targets ?? []).flatMap((_, i) => expand(i)));
  return kernel;
}

/** A fallback-shaped config: the leaves in order. */
export function ordered(...targets: ConfigNode[]): ConfigNode {
  return { strategy: { mode: ORDERED }, targets };
}

export interface RequestInit {
  endpoint?: Endpoint;
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  rawBody?: Uint8Array;
}

/** A request context with its routing config set, as resolving the request's headers would have. */
export function request(config: ConfigNode, init: RequestInit = {}): RequestContext {
  const body = init.body ?? { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const ctx = new RequestContext({
    id: 'req-unit',
    endpoint: init.endpoint ?? 'chat.completions',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: init.headers ?? {},
    body,
    rawBody: init.rawBody,
  });
  own(ctx).config = config;
  return ctx;
}

/** What a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Every event of a stream, as data strings. */
export async function drain(stream: AsyncIterable<{ data: string }> | undefined): Promise<string[]> {
  const out: string[] = [];
  for await (const ev of stream!) out.push(ev.data);
  return out;
}

/** Lets every pending promise callback and I/O callback run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
