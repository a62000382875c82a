// The plugin end to end: a gateway with the OpenAI API and provider and this package, in front of a
// loopback OpenAI fake; /metrics scraped over HTTP and parsed.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import http from 'node:http';
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
  url = '';
  server!: http.Server;
  static async start(): Promise<Upstream> {
    const u = new Upstream();
    u.server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = u.fail.shift();
        if (status) {
          res.writeHead(status, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ error: { message: 'failed on purpose', type: 'server_error' } }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1,
            model: 'm',
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
    });
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
