// The plugin end to end: a gateway with the OpenAI API and provider and this package, in front of a
// loopback OpenAI fake; /metrics scraped over HTTP and parsed.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import http from 'node:http';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chat, silent } from '@waygate/core/testing';
import plugin, { CappedLabel, OptionsSchema } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const ROUTES = ['@waygate/openai-api', '@waygate/provider-openai', '@waygate/strategy-single', '@waygate/strategy-fallback', '@waygate/retry'];

/** A loopback OpenAI upstream that reports usage and answers the statuses queued in `fail` first. */
class Upstream {
  fail: number[] = [];
  /** A stream waits for this after its first event. */
  hold: Promise<void> | undefined;
  url = '';
  server!: http.Server;
  static async start(): Promise<Upstream> {
    const u = new Upstream();
    u.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const status = u.fail.shift();
        const wanted = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { stream?: boolean; model?: string };
        if (status) {
          res.writeHead(status, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ error: { message: 'failed on purpose', type: 'server_error' } }));
        }
        if (wanted.stream) {
          // OpenAI's stream: chunks, then (stream_options.include_usage) a last chunk with usage, then [DONE].
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = (delta: object, extra: object = {}) =>
            `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
          res.write(chunk({ role: 'assistant', content: 'hel' }));
          await u.hold;
          res.write(chunk({ content: 'lo' }));
          res.write(
            `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, completion_tokens_details: { reasoning_tokens: 1 } } })}\n\n`,
          );
          return void res.end('data: [DONE]\n\n');
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1,
            model: wanted.model ?? 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, prompt_tokens_details: { cached_tokens: 2 } },
          }),
        );
      });
    });
    await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r));
    u.url = `http://127.0.0.1:${(u.server.address() as AddressInfo).port}`;
    return u;
  }
  leaf(extra: Record<string, unknown> = {}) {
    return { provider: 'openai', api_key: 'sk-test', custom_host: `${this.url}/v1`, ...extra };
  }
  close() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

const gateway = (options: unknown) =>
  startGateway({ config: { defaultPlugins: false, plugins: [...ROUTES, { module: THIS_PACKAGE, options }] }, port: 0, host: '127.0.0.1', logger: silent });

/** Parses the Prometheus text format into sample lines: name, labels, value. */
function parse(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(url: string, token?: string) {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
}

describe('@waygate/metrics', () => {
  it('has a manifest with its package name', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/metrics', core: '^1.0.0' });
  });

  it('options refuse a short token and unknown keys', () => {
    expect(OptionsSchema.safeParse({ token: 'short' }).success).to.equal(false);
    expect(OptionsSchema.safeParse({ other: 1 }).success).to.equal(false);
  });

  it('caps a label at its maximum, the rest are other', () => {
    const c = new CappedLabel(2);
    expect([c.of('a'), c.of('b'), c.of('c'), c.of('a'), c.of(undefined)]).to.deep.equal(['a', 'b', 'other', 'a', 'unknown']);
  });

  describe('in a running gateway', () => {
    let up: Upstream;
    let gw: Gateway;
    const TOKEN = 'metrics-token-0123456789';

    before(async () => {
      up = await Upstream.start();
      gw = await gateway({ token: TOKEN, maxModels: 1 });
    });
    after(async () => {
      await gw?.close(0);
      await up?.close();
    });

    it('refuses a scrape without the token and with a wrong one', async () => {
      expect((await scrape(gw.url)).status).to.equal(401);
      expect((await scrape(gw.url, 'wrong-token-0123456789')).status).to.equal(401);
    });

    it('counts answered requests by endpoint, provider, model, status and outcome, with latency and tokens', async () => {
      const res = await chat(gw.url, up.leaf());
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      const { status, text } = await scrape(gw.url, TOKEN);
      expect(status).to.equal(200);
      const samples = parse(text);
      const req = samples.find((s) => s.name === 'waygate_requests_total' && s.labels.status === '200');
      expect(req, text).to.not.equal(undefined);
      expect(req!.labels).to.include({ endpoint: 'chat.completions', provider: 'openai', outcome: 'success' });
      expect(req!.value).to.equal(1);
      const count = samples.find((s) => s.name === 'waygate_request_duration_seconds_count');
      expect(count?.value).to.equal(1);
      const tokens = Object.fromEntries(samples.filter((s) => s.name === 'waygate_tokens_total').map((s) => [s.labels.kind, s.value]));
      expect(tokens, text).to.deep.equal({ input: 7, output: 3, cached: 2 });
      const inflight = samples.find((s) => s.name === 'waygate_requests_in_flight');
      expect(inflight?.value).to.equal(0);
    });

    it('counts a stream in flight while it is relayed, its time to first token, and its tokens when it ends', async () => {
      const before = parse((await scrape(gw.url, TOKEN)).text);
      let release!: () => void;
      up.hold = new Promise<void>((r) => (release = r));
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(up.leaf()) },
        body: JSON.stringify({ model: 'm', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const reader = res.body!.getReader();
      await reader.read(); // the first event is out: the stream is still open
      const during = parse((await scrape(gw.url, TOKEN)).text);
      expect(during.find((s) => s.name === 'waygate_streams_in_flight')?.value).to.equal(1);
      release();
      up.hold = undefined;
      while (!(await reader.read()).done);
      const after = parse((await scrape(gw.url, TOKEN)).text);
      const value = (samples: typeof after, name: string, kind?: string) =>
        samples.find((s) => s.name === name && (kind === undefined || s.labels.kind === kind))?.value ?? 0;
      expect(value(after, 'waygate_streams_in_flight')).to.equal(0);
      expect(value(after, 'waygate_time_to_first_token_seconds_count') - value(before, 'waygate_time_to_first_token_seconds_count')).to.equal(1);
      expect(value(after, 'waygate_upstream_duration_seconds_count') - value(before, 'waygate_upstream_duration_seconds_count')).to.equal(1);
      expect(value(after, 'waygate_tokens_total', 'input') - value(before, 'waygate_tokens_total', 'input')).to.equal(5);
      expect(value(after, 'waygate_tokens_total', 'output') - value(before, 'waygate_tokens_total', 'output')).to.equal(2);
      expect(value(after, 'waygate_tokens_total', 'reasoning') - value(before, 'waygate_tokens_total', 'reasoning')).to.equal(1);
      expect(value(after, 'waygate_gateway_overhead_seconds_count')).to.be.greaterThan(value(before, 'waygate_gateway_overhead_seconds_count'));
    });

    it('tells retried and fallen-back answers and upstream errors apart, and caps the model label', async () => {
      up.fail = [500];
      expect((await chat(gw.url, { ...up.leaf(), retry: { attempts: 2 } })).status).to.equal(200);
      up.fail = [500];
      const fb = await chat(gw.url, { strategy: { mode: 'fallback' }, targets: [up.leaf(), up.leaf()] });
      expect(fb.status, JSON.stringify(fb.json)).to.equal(200);
      up.fail = [429];
      expect((await chat(gw.url, up.leaf(), {}, { model: 'another-model', messages: [{ role: 'user', content: 'hi' }] })).status).to.equal(429);
      const samples = parse((await scrape(gw.url, TOKEN)).text);
      const outcomes = samples.filter((s) => s.name === 'waygate_requests_total').map((s) => `${s.labels.outcome}/${s.labels.status}/${s.labels.model}`);
      expect(outcomes).to.include.members(['retried/200/m', 'fell_back/200/m', 'rate_limited/429/other']);
      const errors = samples.filter((s) => s.name === 'waygate_upstream_errors_total').map((s) => `${s.labels.status}:${s.value}`);
      expect(errors).to.include.members(['500:2', '429:1']);
      const total = (name: string) => samples.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);
      expect(total('waygate_retries_total')).to.equal(1);
      expect(total('waygate_fallbacks_total')).to.equal(1);
    });
  });

  it('counts cache lookups by mode and status, circuit states per target, and the cost @waygate/auth priced', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-metrics-'));
    const up = await Upstream.start();
    const saved = process.env.WAYGATE_ADMIN_KEY;
    delete process.env.WAYGATE_ADMIN_KEY;
    const key = 'sk-gw-metrics-test-0123456789';
    const g = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: [
          { module: '@waygate/auth', options: { keys: [{ id: 'k', name: 'k', sha256: createHash('sha256').update(key).digest('hex') }] } },
          ...ROUTES,
          '@waygate/cache-memory',
          { module: '@waygate/circuit-breaker', options: { failureThreshold: 1, minRequests: 1, cooldownMs: 60_000 } },
          { module: THIS_PACKAGE, options: { token: 'metrics-token-0123456789' } },
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
    try {
      const auth = { authorization: `Bearer ${key}` };
      const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
      const cached = { ...up.leaf(), cache: { mode: 'simple' as const } };
      for (let i = 0; i < 2; i++) expect((await chat(g.url, cached, auth, body)).status).to.equal(200);
      up.fail = [500];
      const broken = { provider: 'openai', api_key: 'sk-other', custom_host: `${up.url}/v1` };
      expect((await chat(g.url, broken, auth, body)).status).to.equal(500);
      const samples = parse((await scrape(g.url, 'metrics-token-0123456789')).text);
      const cache = samples.filter((s) => s.name === 'waygate_cache_requests_total').map((s) => `${s.labels.mode}/${s.labels.status}:${s.value}`);
      expect(cache).to.include.members(['simple/miss:1', 'simple/hit:1']);
      const circuits = samples.filter((s) => s.name === 'waygate_circuit_state' && s.value === 1).map((s) => `${s.labels.provider}:${s.labels.state}`);
      expect(circuits).to.deep.equal(['openai:open']);
      const cost = samples.find((s) => s.name === 'waygate_cost_usd_total' && s.labels.model === 'gpt-4o');
      expect(cost?.value, 'gpt-4o is priced: 7 input and 3 output tokens cost more than nothing').to.be.greaterThan(0);
      expect(JSON.stringify(samples)).to.not.include(key);
    } finally {
      await g.close();
      await up.close();
      if (saved !== undefined) process.env.WAYGATE_ADMIN_KEY = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the admin key @waygate/auth holds (from its options, not only the environment) and nothing else', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-metrics-'));
    const ADMIN = 'metrics-test-admin-key-0123456789';
    const saved = process.env.WAYGATE_ADMIN_KEY;
    delete process.env.WAYGATE_ADMIN_KEY;
    const g = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: [
          { module: '@waygate/auth', options: { adminKey: ADMIN, store: { path: path.join(dir, 'keys.sqlite') } } },
          ...ROUTES,
          { module: THIS_PACKAGE, options: {} },
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
    try {
      expect((await scrape(g.url)).status).to.equal(401);
      expect((await scrape(g.url, 'not-the-admin-key-0123456789')).status).to.equal(401);
      // A caller with no gateway key is refused at auth, and counted as denied.
      expect((await chat(g.url, { provider: 'openai', api_key: 'sk-x', custom_host: 'http://127.0.0.1:9/v1' })).status).to.equal(401);
      const ok = await scrape(g.url, ADMIN);
      expect(ok.status).to.equal(200);
      expect(ok.text).to.include('waygate_requests_in_flight');
      expect(ok.text).to.match(/waygate_requests_total\{endpoint="chat.completions",provider="none",model="m",status="401",outcome="denied"\} 1/);
    } finally {
      await g.close();
      if (saved !== undefined) process.env.WAYGATE_ADMIN_KEY = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
