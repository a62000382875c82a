/**
 * For vendor packages' tests: a loopback HTTP server that records what a check sent and answers as
 * the test says, and a CheckInput built the way the guardrails runner builds it.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { makeCtx, newKernel } from '@waygate/core/testing';
import type { CheckHook, CheckInput, CheckResult, GuardrailCheck } from '@waygate/guardrails';

export interface Received {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON (undefined when empty or not JSON), and as text. */
  json: unknown;
  text: string;
}

export interface FakeAnswer {
  status?: number;
  json?: unknown;
  /** Sent as is instead of `json`. */
  raw?: string;
  headers?: Record<string, string>;
  /** Never answer (the check's timeout must end the call). */
  hang?: boolean;
}

/** A vendor fake on 127.0.0.1: `answer` decides each reply from what came in; `received` records it all. */
export class VendorFake {
  readonly received: Received[] = [];
  answer: (req: Received) => FakeAnswer | Promise<FakeAnswer> = () => ({ status: 404, json: { error: { message: 'no answer set' } } });
  readonly #server: Server;
  url = '';

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const received: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, json, text };
        this.received.push(received);
        void Promise.resolve(this.answer(received)).then((a) => {
          if (a.hang) return;
          res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
          res.end(a.raw ?? JSON.stringify(a.json ?? {}));
        });
      });
    });
  }

  static async start(): Promise<VendorFake> {
    const fake = new VendorFake();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  get last(): Received {
    const r = this.received[this.received.length - 1];
    if (!r) throw new Error('the fake received nothing');
    return r;
  }

  reset(): void {
    this.received.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const kernel = newKernel();

export interface InputInit {
  hook?: CheckHook;
  /** The request's text (default: the last user message of `json`). */
  text?: string;
  json?: Record<string, unknown>;
  response?: { text: string; json?: unknown };
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A CheckInput as the runner makes it: parameters parsed by the check's schema (throws on bad ones). */
export function checkInput<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, init: InputInit = {}): CheckInput<z.output<S>> {
  const text = init.text ?? 'hello';
  const json = init.json ?? { model: 'm', messages: [{ role: 'user', content: text }] };
  return {
    hook: init.hook ?? (init.response ? 'afterResponse' : 'beforeRequest'),
    params: check.params.parse(rawParams) as z.output<S>,
    request: { json, text },
    ...(init.response ? { response: { json: init.response.json ?? null, text: init.response.text, status: 200 } } : {}),
    endpoint: 'chat.completions',
    provider: 'openai',
    metadata: {},
    headers: init.headers ?? {},
    signal: init.signal ?? new AbortController().signal,
    ctx: makeCtx(kernel, { provider: 'alpha' }, { body: json }),
    egress: kernel.egress,
  };
}

export async function runCheck<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, init: InputInit = {}): Promise<CheckResult> {
  return check.run(checkInput(check, rawParams, init));
}

/** The issues of parameters the check must refuse, as `path: message`; throws if it accepts them. */
export function refused(check: GuardrailCheck, rawParams: unknown): string {
  const r = check.params.safeParse(rawParams);
  if (r.success) throw new Error(`expected ${check.id} to refuse ${JSON.stringify(rawParams)}`);
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/** The message of the error a promise rejects with; throws if it resolves. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

/**
 * A gateway with the OpenAI API and provider, the guardrails runner and the packages at `plugins`
 * (paths), in front of a loopback OpenAI fake; `ask` sends a chat request with a Portkey config.
 */
export async function guardedGateway(plugins: Array<string | { module: string; options?: unknown }>) {
  const { startGateway } = await import('@waygate/core');
  const { OpenAIFake, portkeyChat, silent } = await import('@waygate/core/testing');
  const up = await OpenAIFake.start();
  const gw = await startGateway({
    config: {
      defaultPlugins: false,
      plugins: ['@waygate/openai-api', '@waygate/provider-openai', '@waygate/strategy-single', '@waygate/guardrails', ...plugins],
    } as never,
    port: 0,
    host: '127.0.0.1',
    logger: silent,
  });
  return {
    up,
    gw,
    /** POSTs /v1/chat/completions with `x-portkey-config` = the leaf with `hooks`; one user message. */
    ask: (hooks: Record<string, unknown>, content: string) =>
      portkeyChat(gw.url, up.leaf(hooks), { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
    async close() {
      await gw.close(0);
      await up.close();
    },
  };
}
