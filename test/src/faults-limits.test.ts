// The fault suite for issue 11's limits: bounded upstream answers (JSON, one SSE event, a whole
// stream, and what the guardrails fetch: webhook answers, JWKS), time limits on upstreams and on
// clients, JSON depth, and connection pools sized for streaming. Every misbehaving party is a real
// HTTP server (or raw socket) on loopback; huge answers are streamed out with back-pressure, so the
// test never holds them, and each test checks that the gateway cut the upstream off early.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { eventually } from '@waygate/core/testing';
import { expectGatewayError, readSSE } from './helpers/api-support.js';

const KEY = 'sk-limits-test';
const CHAT = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
const STREAM = { ...CHAT, stream: true };
const ANSWER = {
  id: 'c1',
  object: 'chat.completion',
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
};
const content = (text: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-test', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;

/** How one answer of a hostile server ended: cut means the connection closed before the server finished writing it. */
interface Fate {
  path: string;
  written: number;
  cut: boolean;
}

/** A loopback HTTP server that answers as the test says, and records how each answer ended. */
class Hostile {
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end();
  readonly fates: Fate[] = [];
  #open = new Set<http.ServerResponse>();
  #server!: http.Server;
  url = '';

  static async start(): Promise<Hostile> {
    const h = new Hostile();
    h.#server = http.createServer((req, res) => {
      const fate: Fate = { path: req.url ?? '', written: 0, cut: false };
      h.#open.add(res);
      res.once('close', () => {
        h.#open.delete(res);
        fate.cut = !res.writableEnded;
        h.fates.push(fate);
      });
      (res as http.ServerResponse & { fate: Fate }).fate = fate;
      req.resume();
      req.once('end', () => h.handler(req, res));
    });
    await new Promise<void>((resolve) => h.#server.listen(0, '127.0.0.1', resolve));
    h.url = `http://127.0.0.1:${(h.#server.address() as AddressInfo).port}`;
    return h;
  }

  /** Answers still open. */
  get open(): number {
    return this.#open.size;
  }

  /** Waits for the fate of the one answer the test caused (after `reset`). */
  async fate(): Promise<Fate> {
    await eventually(5000, () => this.fates.length > 0, 'the hostile server to see its answer end');
    return this.fates[0]!;
  }

  reset(): void {
    this.fates.length = 0;
    this.handler = (_req, res) => res.end();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Writes `head`, then `filler` again and again (waiting for drain) until `total` bytes are written or
 * the connection closes, then ends the answer. The test never holds more than one filler.
 */
async function pump(res: http.ServerResponse, head: string, filler: string, total: number): Promise<void> {
  const fate = (res as http.ServerResponse & { fate: Fate }).fate;
  const chunk = Buffer.from(filler);
  const closed = new Promise((resolve) => res.once('close', resolve));
  res.write(head);
  fate.written = head.length;
  while (fate.written < total && !res.destroyed) {
    fate.written += chunk.length;
    if (!res.write(chunk)) await Promise.race([closed, new Promise((resolve) => res.once('drain', resolve))]);
  }
  if (!res.destroyed) res.end();
}

const sseHeaders = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;
/** What the hostile servers would send in full: far more than any limit, and never held anywhere. */
const HUGE = 512 * MB;

describe('faults: limits on bodies, time, JSON depth and pools (issue 11)', function () {
  this.timeout(60_000);
  let hostile: Hostile;
  let gw: Gateway;

  before(async () => {
    hostile = await Hostile.start();
    gw = await startGateway({
      config: {
        log: { level: 'silent' },
        server: { headersTimeoutMs: 1500, requestTimeoutMs: 2500 },
        upstream: { maxResponseBytes: '1mb', maxEventBytes: '64kb', maxStreamBytes: '2mb', headersTimeoutMs: 1000, bodyTimeoutMs: 1000 },
      },
      port: 0,
      host: '127.0.0.1',
    });
  });
  after(async () => {
    await gw?.close(0);
    await hostile?.close();
  });
  beforeEach(() => hostile.reset());

  const post = (body: unknown, config: Record<string, unknown> = {}, headers: Record<string, string> = {}, route = '/v1/chat/completions') =>
    fetch(gw.url + route, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${KEY}`,
        'x-waygate-config': JSON.stringify({ provider: 'openai', custom_host: `${hostile.url}/v1`, ...config }),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  /** Reads a stream through the gateway: its data events, the last one parsed. */
  async function stream(res: Response): Promise<{ data: string[]; last: { error?: { message: string; code: string } } }> {
    expect(res.status).to.equal(200);
    const { data, error } = await readSSE(res);
    expect(error, 'the stream ends, it is not reset').to.equal(undefined);
    const last = data[data.length - 1]!;
    return { data, last: last === '[DONE]' ? {} : JSON.parse(last) };
  }

  describe('upstream answers are bounded, and the upstream is cut off at the limit', () => {
    for (const status of [200, 500]) {
      it(`a ${status} JSON answer over upstream.maxResponseBytes is a 502 naming the limit`, async () => {
        hostile.handler = (_req, res) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          void pump(res, '{"id":"c1","object":"chat.completion","pad":"', 'a'.repeat(64 * 1024), HUGE);
        };
        await expectGatewayError(
          await post(CHAT),
          502,
          'upstream_bad_response',
          /^upstream answer exceeded upstream\.maxResponseBytes \(1048576 bytes\)$/,
        );
        const fate = await hostile.fate();
        expect(fate.cut, 'the upstream connection was closed before the answer was written').to.equal(true);
        expect(fate.written).to.be.below(HUGE / 8);
      });
    }

    it('one SSE event over upstream.maxEventBytes: before any content a 502 naming the limit', async () => {
      hostile.handler = (_req, res) => {
        sseHeaders(res);
        void pump(res, 'data: {"pad":"', 'a'.repeat(16 * 1024), HUGE);
      };
      await expectGatewayError(await post(STREAM), 502, 'upstream_bad_response', /upstream answer exceeded upstream\.maxEventBytes \(65536 bytes\)/);
      expect((await hostile.fate()).cut).to.equal(true);
    });

    it('one SSE event over upstream.maxEventBytes after content: the stream ends with a terminal error event naming the limit', async () => {
      hostile.handler = (_req, res) => {
        sseHeaders(res);
        void pump(res, `${content('Hel')}${content('lo')}data: {"pad":"`, 'b'.repeat(16 * 1024), HUGE);
      };
      const { data, last } = await stream(await post(STREAM));
      expect(data.slice(0, 2).map((d) => JSON.parse(d).choices[0].delta.content)).to.deep.equal(['Hel', 'lo']);
      expect(last.error?.code).to.equal('stream_interrupted');
      expect(last.error?.message).to.match(/upstream answer exceeded upstream\.maxEventBytes \(65536 bytes\)/);
      expect((await hostile.fate()).cut).to.equal(true);
    });

    it('a stream over upstream.maxStreamBytes (events of a normal size) ends with a terminal error event naming the limit', async () => {
      const events = content('x'.repeat(900)).repeat(64);
      hostile.handler = (_req, res) => {
        sseHeaders(res);
        void pump(res, content('first'), events, HUGE);
      };
      const { data, last } = await stream(await post(STREAM));
      expect(JSON.parse(data[0]!).choices[0].delta.content).to.equal('first');
      expect(data.length).to.be.above(1000); // about 2 MB of ~1 KB events were relayed before the limit
      expect(data).to.not.include('[DONE]');
      expect(last.error?.message).to.match(/upstream answer exceeded upstream\.maxStreamBytes \(2097152 bytes\)/);
      const fate = await hostile.fate();
      expect(fate.cut).to.equal(true);
      expect(fate.written).to.be.below(HUGE / 8);
    });
  });

  describe('stalled upstreams end in time', () => {
    it('no headers at all: a 408 after upstream.headersTimeoutMs, and the upstream connection is closed', async () => {
      hostile.handler = () => undefined; // never answers
      await expectGatewayError(await post(CHAT), 408, 'upstream_timeout', /timed out/);
      expect((await hostile.fate()).cut).to.equal(true);
    });

    it('headers, then silence in a JSON answer: a 408 after upstream.bodyTimeoutMs', async () => {
      hostile.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":"c1",');
      };
      await expectGatewayError(await post(CHAT), 408, 'upstream_timeout', /timed out/);
      expect((await hostile.fate()).cut).to.equal(true);
    });

    it('a stream that started, then went silent: a terminal error event after upstream.bodyTimeoutMs', async () => {
      hostile.handler = (_req, res) => {
        sseHeaders(res);
        res.write(content('Hello'));
      };
      const { data, last } = await stream(await post(STREAM));
      expect(JSON.parse(data[0]!).choices[0].delta.content).to.equal('Hello');
      expect(last.error?.code).to.equal('stream_interrupted');
      expect(last.error?.message).to.match(/timeout/i);
      expect((await hostile.fate()).cut).to.equal(true);
    });
  });

  describe('slow clients are cut off, the others are served', () => {
    it('headers sent in part, or a body sent in part: cut by headersTimeout / requestTimeout (408) while a bystander is answered', async () => {
      hostile.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ANSWER));
      };
      const port = Number(new URL(gw.url).port);
      const order: string[] = [];
      const slow = (what: string, bytes: string) =>
        new Promise<string>((resolve) => {
          let got = '';
          const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
          s.on('data', (d) => (got += d.toString('latin1')));
          s.on('error', () => undefined);
          s.on('close', () => {
            order.push(what);
            resolve(got);
          });
        });
      const head = 'POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n';
      const partialHeaders = Array.from({ length: 50 }, () => slow('slow headers cut', head));
      const partialBodies = Array.from({ length: 50 }, () => slow('slow body cut', `${head}content-length: 1000\r\n\r\n{"model":`));
      await sleep(50); // every slow connection is open before the bystander comes

      const bystander = await post(CHAT);
      order.push('bystander answered');
      expect(bystander.status).to.equal(200);
      expect(((await bystander.json()) as typeof ANSWER).choices[0]!.message.content).to.equal('ok');

      const answers = await Promise.all([...partialHeaders, ...partialBodies]);
      expect(order[0]).to.equal('bystander answered');
      expect(order.filter((o) => o.endsWith('cut'))).to.have.length(100);
      for (const a of answers) expect(a).to.match(/^HTTP\/1\.1 408 /);
    });

    it('a request received in time may take longer than requestTimeoutMs to answer: a stream outlives it', async () => {
      hostile.handler = (_req, res) => {
        sseHeaders(res);
        void (async () => {
          for (let i = 0; i < 10; i++) {
            res.write(content(`${i} `));
            await sleep(300);
          }
          res.end('data: [DONE]\n\n');
        })();
      };
      const t0 = performance.now();
      const { data } = await stream(await post(STREAM));
      expect(performance.now() - t0, 'the stream lasted past requestTimeoutMs').to.be.above(2500);
      expect(data).to.have.length(11);
      expect(data[10]).to.equal('[DONE]');
    });
  });

  describe('JSON depth', () => {
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

    it('a request body nested deeper than server.maxJsonDepth is a 400 naming the limit; nothing goes upstream', async () => {
      const body = `{"model":"m","messages":[{"role":"user","content":"hi"}],"x":${nested(100_000)}}`;
      await expectGatewayError(await post(body), 400, 'invalid_request', /^The request body is nested deeper than server\.maxJsonDepth \(64\)$/);
      // In the caller's wire shape: Anthropic's on /v1/messages.
      const res = await post(`{"model":"m","max_tokens":5,"messages":[],"x":${nested(65)}}`, {}, { 'x-api-key': KEY }, '/v1/messages');
      expect(res.status).to.equal(400);
      const err = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(err.type).to.equal('error');
      expect(err.error.message).to.match(/nested deeper than server\.maxJsonDepth \(64\)/);
      expect(hostile.fates).to.have.length(0);
    });

    it('a body at the limit is served, through the cache key too', async () => {
      hostile.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ANSWER));
      };
      const body = `{"model":"m","messages":[{"role":"user","content":"hi"}],"x":${nested(63)}}`;
      const res = await post(body, { cache: { mode: 'simple' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-waygate-cache-status')).to.equal('MISS');
    });

    it('a config header (its override_params, its nesting of targets) or a metadata header nested too deep is a 400 naming the header', async () => {
      const headers = (config: string) => ({ 'x-waygate-config': config });
      const deepOverride = `{"provider":"openai","custom_host":"${hostile.url}/v1","override_params":{"x":${nested(4000)}}}`;
      await expectGatewayError(
        await post(CHAT, {}, headers(deepOverride)),
        400,
        'invalid_config',
        /^x-waygate-config is nested deeper than server\.maxJsonDepth \(64\)$/,
        'x-waygate-config',
      );
      let targets = `{"provider":"openai","custom_host":"${hostile.url}/v1"}`;
      for (let i = 0; i < 200; i++) targets = `{"strategy":{"mode":"fallback"},"targets":[${targets}]}`;
      await expectGatewayError(await post(CHAT, {}, headers(targets)), 400, 'invalid_config', /nested deeper than server\.maxJsonDepth/);
      await expectGatewayError(
        await post(CHAT, {}, { 'x-waygate-metadata': `{"a":${nested(4000)}}` }),
        400,
        'invalid_header',
        /metadata header is nested deeper/,
      );
      expect(hostile.fates).to.have.length(0);
    });

    it('JSON inside the body: tool-call arguments too deep to translate are a 400, not a stack overflow', async () => {
      const body = {
        model: 'claude-test',
        messages: [
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: `{"a":${nested(20_000)}}` } }],
          },
          { role: 'tool', tool_call_id: 't1', content: 'done' },
        ],
      };
      await expectGatewayError(
        await post(body, { provider: 'anthropic' }),
        400,
        'invalid_request',
        /tool call's arguments are nested deeper than 64 levels/,
      );
      expect(hostile.fates).to.have.length(0);
    });
  });

  describe("the guardrails' outbound fetches are bounded", () => {
    const denied = async (res: Response) => {
      expect(res.status).to.equal(446);
      const json = (await res.json()) as { hook_results: { before_request_hooks: Array<{ checks: Array<{ error?: { message: string } }> }> } };
      return json.hook_results.before_request_hooks[0]!.checks[0]!.error?.message;
    };

    it('a webhook answering more than 4 MiB fails the check (the guardrail denies), and its connection is cut', async () => {
      hostile.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        void pump(res, '{"verdict":true,"data":"', 'w'.repeat(64 * 1024), HUGE);
      };
      const config = { input_guardrails: [{ 'default.webhook': { webhookURL: `${hostile.url}/hook`, timeout: 20_000 }, deny: true }] };
      expect(await denied(await post(CHAT, config))).to.match(/answered more than 4194304 bytes/);
      const fate = await hostile.fate();
      expect(fate).to.include({ path: '/hook', cut: true });
      expect(fate.written).to.be.below(HUGE / 8);
    });

    it('a JWKS larger than 1 MiB fails the jwt check, and its connection is cut', async () => {
      hostile.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        void pump(res, '{"keys":[],"pad":"', 'k'.repeat(64 * 1024), HUGE);
      };
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const token = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ sub: 'u', iat: Math.floor(Date.now() / 1000) })}.c2ln`;
      const config = { input_guardrails: [{ 'default.jwt': { jwksUri: `${hostile.url}/jwks`, headerKey: 'x-user-token', timeout: 20_000 }, deny: true }] };
      expect(await denied(await post(CHAT, config, { 'x-user-token': token }))).to.match(/the JWKS at .* answered more than 1048576 bytes/);
      const fate = await hostile.fate();
      expect(fate).to.include({ path: '/jwks', cut: true });
    });
  });
});

describe('faults: a pool sized for streaming (issue 11)', function () {
  this.timeout(60_000);
  const STREAMS = 320;
  let hostile: Hostile;
  let gw: Gateway;
  const held: http.ServerResponse[] = [];

  before(async () => {
    hostile = await Hostile.start();
    // The defaults: nothing configured about pools.
    gw = await startGateway({ config: { log: { level: 'silent' } }, port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await gw?.close(0);
    await hostile?.close();
  });

  it(`${STREAMS} slow streams to one origin all open at once, and a bystander to the same origin is answered while they are`, async () => {
    hostile.handler = (req, res) => {
      if (req.url!.startsWith('/fast/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(ANSWER));
      }
      sseHeaders(res);
      res.write(content('started'));
      held.push(res);
    };
    const call = (prefix: string, body: unknown) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${KEY}`,
          'x-waygate-config': JSON.stringify({ provider: 'openai', custom_host: `${hostile.url}/${prefix}/v1` }),
        },
        body: JSON.stringify(body),
      });
    const order: string[] = [];
    const streams = Array.from({ length: STREAMS }, () =>
      call('slow', STREAM).then(async (res) => {
        const r = await readSSE(res);
        order.push('stream ended');
        return r;
      }),
    );
    // Every stream reached the upstream: none is queued behind the pool.
    await eventually(30_000, () => held.length === STREAMS, `all ${STREAMS} streams to be open upstream at once`);

    const bystander = await call('fast', CHAT);
    order.push('bystander answered');
    expect(bystander.status).to.equal(200);
    expect(((await bystander.json()) as typeof ANSWER).choices[0]!.message.content).to.equal('ok');
    expect(hostile.open, 'every stream is still open').to.equal(STREAMS);

    for (const res of held) res.end(`${content(' done')}data: [DONE]\n\n`);
    const results = await Promise.all(streams);
    expect(order[0]).to.equal('bystander answered');
    for (const r of results) {
      expect(r.error).to.equal(undefined);
      expect(r.data.map((d) => (d === '[DONE]' ? d : JSON.parse(d).choices[0].delta.content))).to.deep.equal(['started', ' done', '[DONE]']);
    }
  });
});
