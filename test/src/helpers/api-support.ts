// Support for the API end-to-end suite (api.test.ts): a log capture wired to the gateway's own
// logger factory (so the gateway's redaction applies), raw HTTP helpers for malformed input, an
// SSE reader that never throws, and the OpenAI error-shape assertion.
import { expect } from 'chai';
import { createLogger } from '@waygate/core';

export type LogRecord = Record<string, unknown> & { msg?: string; reqId?: string; level?: string };

/** Collects every line the gateway logs, in memory. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: ReturnType<typeof createLogger>;

  constructor(level = 'trace') {
    this.logger = createLogger({
      level,
      destination: {
        write: (line: string) => {
          this.lines.push(line);
        },
      },
    });
  }

  records(): LogRecord[] {
    const out: LogRecord[] = [];
    for (const raw of this.lines) {
      for (const line of raw.split('\n')) if (line.trim()) out.push(JSON.parse(line) as LogRecord);
    }
    return out;
  }

  /** Resolves with the first record that matches, waiting (bounded) for it to be written. */
  async waitFor(match: (r: LogRecord) => boolean, what: string, timeoutMs = 3000): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.records().find(match);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no log line ${what} within ${timeoutMs} ms; have:\n${this.lines.join('')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The one `request` line the HTTP layer writes for a request id. */
  requestLine(reqId: string): Promise<LogRecord> {
    return this.waitFor((r) => r.msg === 'request' && r.reqId === reqId, `"request" for ${reqId}`);
  }
}

/** POSTs a body (a string is sent as it is) with JSON content type unless headers say otherwise. */
export function postRaw(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

export interface SSEResult {
  /** The `data:` payload of every event, in order. */
  data: string[];
  /** Raw text received. */
  text: string;
  /** Set if reading the body failed (a reset) rather than ending. */
  error: unknown;
}

/** Reads an event stream to its end (or failure) and splits it into events; never throws. */
export async function readSSE(res: Response): Promise<SSEResult> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  let error: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
  } catch (err) {
    error = err;
  }
  const data: string[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.startsWith('data:'));
    if (lines.length) data.push(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  }
  return { data, text, error };
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/**
 * Asserts a gateway error answer: the status, JSON, OpenAI's error shape (exactly message, type,
 * code, param), a request id header, the code, and a message that says what is wrong.
 */
export async function expectGatewayError(res: Response, status: number, code: string, message: RegExp, param?: string | null): Promise<OpenAIErrorBody> {
  const text = await res.text();
  expect(res.status, `status (body ${text})`).to.equal(status);
  expect(res.headers.get('content-type') ?? '').to.match(/^application\/json/);
  expect(res.headers.get('x-waygate-request-id'), 'x-waygate-request-id').to.be.a('string').and.not.equal('');
  const body = JSON.parse(text) as OpenAIErrorBody;
  expect(body).to.have.all.keys('error');
  expect(body.error).to.have.all.keys('message', 'type', 'code', 'param');
  expect(body.error.type).to.be.a('string').and.not.equal('');
  expect(body.error.code).to.equal(code);
  expect(body.error.message).to.be.a('string').and.match(message);
  if (param !== undefined) expect(body.error.param).to.equal(param);
  return body;
}
