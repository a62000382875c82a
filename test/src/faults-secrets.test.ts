// Fault suite, secrets (issue 11, item 4): upstreams on loopback that echo the credential they got
// in their error messages, whole, truncated or masked, in JSON errors and in streams. What the
// gateway sent from its own config never reaches the caller; what the caller sent itself may come
// back; and forwarded credential headers never reach a log line unmasked.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { LogCapture, readSSE } from './helpers/api-support.js';

const SERVER_KEY = 'sk-srv-7Hq2Lm9Xc4Vb8Nz1Rt6Yp3Wd';
const ANTHROPIC_KEY = 'sk-ant-api03-Qw8Er5Ty2Ui9Op4As7Df1Gh';
const CALLER_KEY = 'sk-caller-5Jk8Lz2Xc6Vb9Nm3Qw7Er';
const TENANT_TOKEN = 'tnt-0a9b8c7d6e5f4a3b2c1d';
const MESSAGES = [{ role: 'user', content: 'hi' }];

/** The credential an upstream got: the bearer token, else x-api-key. */
function credentialOf(req: http.IncomingMessage): string {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') return auth.replace(/^Bearer\s+/i, '');
  return String(req.headers['x-api-key'] ?? '');
}

/** The ways upstreams echo a key: whole, its head cut off with "...", OpenAI's masked middle, its tail alone. */
function echoes(key: string): string {
  return `Incorrect API key provided: ${key}. Also seen as ${key.slice(0, 12)}... and ${key.slice(0, 9)}****${key.slice(-9)} and ...${key.slice(-11)}.`;
}

type Mode = 'json-401' | 'stream-error-midway' | 'stream-error-first' | 'tenant-400';

/** An upstream that speaks OpenAI's and Anthropic's error shapes, and echoes whatever credential it got. */
class EchoingUpstream {
  mode: Mode = 'json-401';
  readonly #server: http.Server;
  url = '';

  constructor() {
    this.#server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => this.#answer(req, res));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const key = credentialOf(req);
    if (req.url!.endsWith('/messages')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${echoes(key)}` } }));
      return;
    }
    if (this.mode === 'json-401') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: echoes(key), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
      return;
    }
    if (this.mode === 'tenant-400') {
      const token = String(req.headers['x-tenant-token'] ?? '');
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: `tenant token ${token} is not allowed for key ${key}`, type: 'invalid_request_error', param: null, code: null },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    const error = `data: ${JSON.stringify({ error: { message: echoes(key), type: 'server_error', param: null, code: null } })}\n\n`;
    if (this.mode === 'stream-error-first') res.end(error);
    else res.end(chunk('Hel') + error + chunk('lo') + 'data: [DONE]\n\n');
  }
}

/** Every form of a key that must not reach the caller: itself, and any 9 characters of its head or tail. */
function expectNoTraceOf(text: string, key: string): void {
  expect(text).to.not.include(key);
  expect(text).to.not.include(key.slice(0, 9));
  expect(text).to.not.include(key.slice(-9));
}

describe('faults: secrets stay home (echoing upstreams on loopback)', function () {
  this.timeout(20_000);
  let up: EchoingUpstream;
  let gw: Gateway;
  let logs: LogCapture;

  before(async () => {
    up = await new EchoingUpstream().start();
    logs = new LogCapture('info');
    gw = await startGateway({
      config: {
        providers: {
          openai: { api_key: SERVER_KEY, base_url: `${up.url}/v1` },
          anthropic: { api_key: ANTHROPIC_KEY, base_url: `${up.url}/v1` },
        },
      },
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });

  const chat = (headers: Record<string, string>, body: Record<string, unknown> = {}) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES, ...body }),
    });

  it("scrubs the gateway's own key from an upstream's JSON error, whole, truncated and masked", async () => {
    up.mode = 'json-401';
    const res = await chat({ 'x-waygate-provider': 'openai' });
    const text = await res.text();
    expect(res.status).to.equal(401);
    const body = JSON.parse(text) as { error: { message: string; code: string } };
    expect(body.error.code, 'the upstream error is still relayed').to.equal('invalid_api_key');
    expect(body.error.message).to.match(/^Incorrect API key provided: \[REDACTED\]/);
    expectNoTraceOf(text, SERVER_KEY);
    const line = await logs.requestLine(res.headers.get('x-waygate-request-id')!);
    expect(String(line.error)).to.include('Incorrect API key provided');
    expectNoTraceOf(JSON.stringify(line), SERVER_KEY);
  });

  it("scrubs it in Anthropic's shape on /v1/messages too (a key sent as x-api-key)", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-provider': 'anthropic' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: MESSAGES }),
    });
    const text = await res.text();
    expect(res.status).to.equal(401);
    expect(JSON.parse(text)).to.have.property('type', 'error');
    expect(text).to.include('invalid x-api-key');
    expectNoTraceOf(text, ANTHROPIC_KEY);
  });

  it('leaves a key the caller sent itself in the echo: it is theirs', async () => {
    up.mode = 'json-401';
    const res = await chat({ 'x-waygate-provider': 'openai', 'x-waygate-custom-host': `${up.url}/v1`, authorization: `Bearer ${CALLER_KEY}` });
    const body = (await res.json()) as { error: { message: string } };
    expect(res.status).to.equal(401);
    expect(body.error.message).to.include(CALLER_KEY);
    // The log line masks it all the same: logs hold no credential of anyone.
    const line = await logs.requestLine(res.headers.get('x-waygate-request-id')!);
    expectNoTraceOf(JSON.stringify(line), CALLER_KEY);
  });

  it('scrubs an error event mid-stream (the terminal event the caller sees)', async () => {
    up.mode = 'stream-error-midway';
    const res = await chat({ 'x-waygate-provider': 'openai' }, { stream: true });
    expect(res.status).to.equal(200);
    const sse = await readSSE(res);
    expect(sse.data[0], 'the content before the error is relayed').to.include('"content":"Hel"');
    const last = JSON.parse(sse.data[sse.data.length - 1]!) as { error: { message: string } };
    expect(last.error.message).to.match(/^Incorrect API key provided: \[REDACTED\]/);
    expect(sse.text, 'nothing after the error event').to.not.include('"content":"lo"');
    expectNoTraceOf(sse.text, SERVER_KEY);
  });

  it('scrubs an error event that opens a stream (answered as a JSON error)', async () => {
    up.mode = 'stream-error-first';
    const res = await chat({ 'x-waygate-provider': 'openai' }, { stream: true });
    const text = await res.text();
    expect(res.status).to.be.at.least(400);
    expect(text).to.include('Incorrect API key provided');
    expectNoTraceOf(text, SERVER_KEY);
  });

  it("masks a forwarded credential header in the log line's error field; the caller, who sent it, may see it", async () => {
    up.mode = 'tenant-400';
    const res = await chat({
      'x-waygate-provider': 'openai',
      'x-waygate-forward-headers': 'x-tenant-token, x-tenant-region',
      'x-tenant-token': TENANT_TOKEN,
      'x-tenant-region': 'eu-west-visible',
    });
    const body = (await res.json()) as { error: { message: string } };
    expect(res.status).to.equal(400);
    expect(body.error.message).to.include(TENANT_TOKEN);
    expectNoTraceOf(body.error.message, SERVER_KEY);
    const line = await logs.requestLine(res.headers.get('x-waygate-request-id')!);
    expect(String(line.error)).to.match(/^tenant token \[REDACTED\] is not allowed for key \[REDACTED\]/);
    expectNoTraceOf(JSON.stringify(line), TENANT_TOKEN);
    for (const l of logs.lines) {
      expect(l).to.not.include(TENANT_TOKEN);
      expect(l).to.not.include(SERVER_KEY);
    }
  });
});
