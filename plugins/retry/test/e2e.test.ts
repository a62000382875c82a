// End to end: the real gateway (startGateway) with the OpenAI provider and this plugin, in front of a
// tiny scripted OpenAI-shaped upstream on loopback.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';

const RETRY_PLUGIN = fileURLToPath(new URL('../src/index.js', import.meta.url));
const silent = createLogger({ level: 'silent' });

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An upstream that answers from a script (the last entry repeats) and counts calls. */
class ScriptedUpstream {
  calls = 0;
  times: number[] = [];
  script: Reply[] = [];
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<ScriptedUpstream> {
    const server = http.createServer();
    const up = new ScriptedUpstream(server);
    server.on('request', (req, res) => {
      req.resume();
      req.on('end', () => {
        const reply = up.script[Math.min(up.calls, up.script.length - 1)] ?? { status: 200 };
        up.calls++;
        up.times.push(performance.now());
        const body = reply.body ?? (reply.status < 400 ? completion() : { error: { message: `upstream says ${reply.status}`, type: 'server_error' } });
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return up;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  reset(script: Reply[]): void {
    this.calls = 0;
    this.times = [];
    this.script = script;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function completion() {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-test',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('@waygate/retry end to end', function () {
  let upstream: ScriptedUpstream;
  let gw: Gateway;

  before(async () => {
    upstream = await ScriptedUpstream.start();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', '@waygate/provider-openai', { module: RETRY_PLUGIN, options: { baseDelayMs: 5, maxDelayMs: 20 } }],
      },
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
  });
  after(async () => {
    await gw?.close(0);
    await upstream?.close();
  });

  async function chat(config: Record<string, unknown>, headers: Record<string, string> = {}) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-waygate-config': JSON.stringify({ provider: 'openai', api_key: 'sk-test', custom_host: upstream.baseURL, ...config }),
        ...headers,
      },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  }

  it('recovers from two 503s: three upstream attempts, x-waygate-retry-count 2', async () => {
    upstream.reset([{ status: 503 }, { status: 503 }, { status: 200 }]);
    const res = await chat({ retry: { attempts: 3 } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.choices[0].message.content).to.equal('hello');
    expect(upstream.calls).to.equal(3);
    expect(res.headers.get('x-waygate-retry-count')).to.equal('2');
  });

  it('gives up after `attempts` retries and relays the last failure; Portkey dialect reports -1', async () => {
    upstream.reset([{ status: 502 }]);
    const res = await chat({ retry: { attempts: 2 } }, { 'x-portkey-trace-id': 'trace-1' });
    expect(res.status).to.equal(502);
    expect(res.body.error.message).to.equal('upstream says 502');
    expect(upstream.calls).to.equal(3);
    expect(res.headers.get('x-waygate-retry-count')).to.equal('2');
    expect(res.headers.get('x-portkey-retry-attempt-count')).to.equal('-1');
  });

  it('does not retry a 400, nor a 503 without a retry policy', async () => {
    upstream.reset([{ status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } }]);
    const bad = await chat({ retry: { attempts: 3 } }, { 'x-portkey-trace-id': 'trace-2' });
    expect(bad.status).to.equal(400);
    expect(upstream.calls).to.equal(1);
    expect(bad.headers.get('x-waygate-retry-count')).to.equal('0');
    expect(bad.headers.get('x-portkey-retry-attempt-count')).to.equal('0');

    upstream.reset([{ status: 503 }]);
    const none = await chat({});
    expect(none.status).to.equal(503);
    expect(upstream.calls).to.equal(1);
  });

  it('honours Retry-After (retry-after-ms) between attempts', async () => {
    upstream.reset([{ status: 429, headers: { 'retry-after-ms': '150' } }, { status: 200 }]);
    const res = await chat({ retry: { attempts: 1 } });
    expect(res.status).to.equal(200);
    expect(upstream.calls).to.equal(2);
    expect(upstream.times[1]! - upstream.times[0]!).to.be.at.least(140);
    expect(res.headers.get('x-waygate-retry-count')).to.equal('1');
  });

  it('does not retry when Retry-After asks for more than a minute', async () => {
    upstream.reset([{ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 }]);
    const res = await chat({ retry: { attempts: 3 } });
    expect(res.status).to.equal(429);
    expect(upstream.calls).to.equal(1);
  });

  it('retries a refused connection', async () => {
    const port = await closedPort();
    const res = await chat({ retry: { attempts: 2 }, custom_host: `http://127.0.0.1:${port}/v1` });
    expect(res.status).to.equal(502);
    expect(res.body.error.code).to.equal('upstream_unreachable');
    expect(res.headers.get('x-waygate-retry-count')).to.equal('2');
  });

  it('retries only the status codes the policy names', async () => {
    upstream.reset([{ status: 500 }, { status: 200 }]);
    const named = await chat({ retry: { attempts: 1, on_status_codes: [500] } });
    expect(named.status).to.equal(200);
    expect(upstream.calls).to.equal(2);

    upstream.reset([{ status: 503 }, { status: 200 }]);
    const other = await chat({ retry: { attempts: 1, on_status_codes: [500] } });
    expect(other.status).to.equal(503);
    expect(upstream.calls).to.equal(1);
  });
});
