// Test only: requests through a gateway, SSE collection, and a logger whose lines the tests can read.
import { createLogger, parseSSE } from '@waygate/core';
import type { SSEEvent } from '@waygate/core';

export const GUARDRAILS = new URL('../src/index.js', import.meta.url).href;
export const CHECKS = new URL('./checks-plugin.js', import.meta.url).href;
export const MESSAGES = new URL('./messages-plugin.js', import.meta.url).href;

export interface Answer {
  status: number;
  headers: Headers;
  json: any;
  events: SSEEvent[];
}

/** POSTs to the gateway with a routing config header; reads a JSON answer or every SSE event. */
export async function post(
  base: string,
  config: unknown,
  body: Record<string, unknown>,
  opts: { path?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (config !== undefined) headers['x-waygate-config'] = JSON.stringify(config);
  const res = await fetch(base + (opts.path ?? '/v1/chat/completions'), { method: 'POST', headers, body: JSON.stringify(body) });
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    const events: SSEEvent[] = [];
    for await (const ev of parseSSE(res.body as unknown as AsyncIterable<Uint8Array>)) events.push(ev);
    return { status: res.status, headers: res.headers, json: undefined, events };
  }
  return { status: res.status, headers: res.headers, json: await res.json(), events: [] };
}

export const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'gpt-test', messages: [{ role: 'user', content }], ...extra });

/** The text of an OpenAI chat stream's content deltas. */
export function streamedText(events: SSEEvent[]): string {
  let out = '';
  for (const ev of events) {
    if (ev.data === '[DONE]') continue;
    const c = JSON.parse(ev.data);
    out += c.choices?.[0]?.delta?.content ?? '';
  }
  return out;
}

export interface LogRecord {
  level: string;
  msg: string;
  reqId?: string;
  [k: string]: unknown;
}

export class LogCapture {
  readonly lines: string[] = [];
  readonly logger = createLogger({ level: 'info', destination: { write: (line: string) => void this.lines.push(line) } });

  records(): LogRecord[] {
    return this.lines.flatMap((raw) =>
      raw
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as LogRecord),
    );
  }

  /** The first record that matches, waiting for it (bounded: the test fails if it never comes). */
  async waitFor(match: (r: LogRecord) => boolean, what: string): Promise<LogRecord> {
    for (let i = 0; i < 400; i++) {
      const hit = this.records().find(match);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no log line ${what}; have:\n${this.lines.join('')}`);
  }
}
