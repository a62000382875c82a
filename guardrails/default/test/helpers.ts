// Builds CheckInputs for calling checks directly, and tiny loopback HTTP servers for the checks
// that call out.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { makeCtx, newKernel } from '@waygate/core/testing';
import type { CheckHook, CheckInput, CheckResult, GuardrailCheck } from '@waygate/guardrails';

const kernel = newKernel();

export interface InputInit {
  hook?: CheckHook;
  /** The request's text (default: the last user message of `json`, else ''). */
  text?: string;
  json?: Record<string, unknown>;
  response?: { text: string; json?: unknown; status?: number };
  endpoint?: string;
  provider?: string;
  metadata?: Record<string, unknown>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The egress policy the check calls out under (default: the test kernel's, which allows loopback). */
  egress?: CheckInput['egress'];
}

/** A CheckInput with the parameters parsed by the check's own schema (throws on bad ones). */
export function input<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, init: InputInit = {}): CheckInput<z.output<S>> {
  const json = init.json ?? { model: 'gpt-4o-mini', messages: [{ role: 'user', content: init.text ?? '' }] };
  const ctx = makeCtx(kernel, { provider: 'alpha' }, { body: json, headers: init.headers, metadata: init.metadata });
  return {
    hook: init.hook ?? (init.response ? 'afterResponse' : 'beforeRequest'),
    params: check.params.parse(rawParams) as z.output<S>,
    request: { json, text: init.text ?? lastUserText(json) },
    ...(init.response ? { response: { json: init.response.json ?? null, text: init.response.text, status: init.response.status ?? 200 } } : {}),
    endpoint: init.endpoint ?? 'chat.completions',
    provider: init.provider ?? 'openai',
    metadata: init.metadata ?? {},
    headers: init.headers ?? {},
    signal: init.signal ?? new AbortController().signal,
    ctx,
    egress: init.egress ?? kernel.egress,
  };
}

function lastUserText(json: Record<string, unknown>): string {
  const msgs = json.messages as Array<{ role: string; content: unknown }> | undefined;
  const last = msgs?.filter((m) => m.role === 'user').pop();
  return typeof last?.content === 'string' ? last.content : '';
}

/** Runs a check on an input built from raw parameters. */
export async function run<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, init: InputInit = {}): Promise<CheckResult> {
  return check.run(input(check, rawParams, init));
}

/** The answer text as an after-hook sees it. */
export const answer = (text: string, json?: unknown): InputInit => ({ response: { text, json } });

/** Whether raw parameters are rejected by the check's schema, and the messages. */
export function rejects(check: GuardrailCheck, rawParams: unknown): string {
  const r = check.params.safeParse(rawParams);
  if (r.success) throw new Error(`expected ${check.id} to reject ${JSON.stringify(rawParams)}`);
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback HTTP server whose answers a test scripts; it records what it received. */
export class TestServer {
  readonly received: Received[] = [];
  /** TCP connections accepted (an egress refusal must leave it at 0). */
  connections = 0;
  handler: (req: Received, res: http.ServerResponse) => void = (_req, res) => res.end();
  #server!: http.Server;
  url = '';

  static async start(handler?: TestServer['handler']): Promise<TestServer> {
    const s = new TestServer();
    if (handler) s.handler = handler;
    s.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        s.received.push(r);
        s.handler(r, res);
      });
    });
    s.#server.on('connection', () => s.connections++);
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    s.url = `http://127.0.0.1:${(s.#server.address() as AddressInfo).port}`;
    return s;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A loopback port with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
