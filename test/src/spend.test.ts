// Rate limits, budgets, cost and spend end to end: the official `openai` client with a virtual key
// against the real gateway (the default plugins) in front of the fake OpenAI upstream; two gateway
// processes sharing PostgreSQL and Redis, where a limit of N per minute admits exactly N across both
// and a budget is not overspent beyond the requests in flight.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { RateLimitError } from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { REDIS_URL, eventually, silent, useRedis } from '@waygate/core/testing';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from '@waygate/auth/testing';
import { FakeOpenAI } from './fakes/index.js';
import { killAllClis, spawnCli } from './helpers/proc-cli.js';
import { tempDir, writeConfig } from './helpers/proc-util.js';
import { LogCapture } from './helpers/api-support.js';
import { adminCall, authConfig } from './helpers/auth-support.js';
import { newKey } from '@waygate/auth';

const ADMIN = 'the-e2e-spend-admin-key-0123456789';
const savedAdmin = process.env.WAYGATE_ADMIN_KEY;
let fake: FakeOpenAI;

/** $1 per input or output token on this model: costs are whole numbers of dollars. */
const DEAR = { 'dear-*': { input_per_mtok: 1_000_000, output_per_mtok: 1_000_000 } };

before(async () => {
  delete process.env.WAYGATE_ADMIN_KEY;
  fake = await FakeOpenAI.start({ apiKey: 'sk-upstream-held', chunkCount: 5 });
});
after(async () => {
  if (savedAdmin !== undefined) process.env.WAYGATE_ADMIN_KEY = savedAdmin;
  await killAllClis();
  await fake?.close();
});

const configWith = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => authConfig(fake.baseURL, auth, extra);
const admin = (url: string, method: string, route: string, body?: unknown) => adminCall(url, ADMIN, method, route, body);

const hi = [{ role: 'user' as const, content: 'hi' }];

describe('rate limits, budgets and cost through the openai SDK', () => {
  const data = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'waygate-spend-sdk-'));
  let gw: Gateway;
  const logs = new LogCapture('info');
  const openai = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  const make = async (body: Record<string, unknown>) => {
    const r = await admin(gw.url, 'POST', '/admin/keys', body);
    expect(r.status, JSON.stringify(r.json)).to.equal(201);
    return r.json as { id: string; key: string };
  };

  before(async () => {
    gw = await startGateway({
      config: configWith({ adminKey: ADMIN, store: { type: 'sqlite', path: path.join(data, 'waygate.sqlite') }, prices: DEAR }),
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    fs.rmSync(data, { recursive: true, force: true });
  });
  beforeEach(() => fake.reset());

  it('answers within the limit with the x-ratelimit headers, then 429 rate_limit_exceeded with retry-after, never reaching the upstream', async () => {
    const k = await make({ name: 'rpm', rate_limit: { requests_per_minute: 2 } });
    const seen: Array<string | null> = [];
    for (let i = 0; i < 2; i++) {
      const { response } = await openai(k.key).chat.completions.create({ model: 'gpt-4o-mini', messages: hi }).withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).to.equal('2');
      expect(response.headers.get('x-ratelimit-reset-requests')).to.match(/^\d+(ms|s|m\d+s)$/);
      seen.push(response.headers.get('x-ratelimit-remaining-requests'));
    }
    expect(seen).to.deep.equal(['1', '0']);
    const err = await openai(k.key)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: hi })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RateLimitError);
    const e = err as RateLimitError;
    expect(e.status).to.equal(429);
    expect(e.code).to.equal('rate_limit_exceeded');
    expect(e.message).to.include('2 requests per minute');
    expect(Number(e.headers?.get('retry-after'))).to.be.within(1, 60);
    expect(e.headers?.get('x-ratelimit-remaining-requests')).to.equal('0');
    expect(fake.requests).to.have.length(2);
  });

  it('the Anthropic SDK gets its own error shape for the same refusals', async () => {
    const k = await make({ name: 'claude-code', rate_limit: { requests_per_minute: 1 } });
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: k.key, maxRetries: 0 });
    const ask = () => anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const { response } = await ask().withResponse();
    expect(response.headers.get('x-ratelimit-remaining-requests')).to.equal('0');
    const err = await ask().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).status).to.equal(429);
    expect(JSON.stringify((err as InstanceType<typeof Anthropic.RateLimitError>).error)).to.include('Rate limit reached');
    expect(fake.requests).to.have.length(1);
  });

  it('a team’s limit and a per-model limit apply on top of the key’s', async () => {
    expect((await admin(gw.url, 'POST', '/admin/teams', { id: 'rl-team', name: 'rl', rate_limit: { requests_per_minute: 3 } })).status).to.equal(201);
    const a = await make({ name: 'a', team: 'rl-team', rate_limit: { per_model: { 'gpt-4o*': { requests_per_minute: 1 } } } });
    const b = await make({ name: 'b', team: 'rl-team' });
    const status = (k: string, model: string) =>
      openai(k)
        .chat.completions.create({ model, messages: hi })
        .then(
          () => 200,
          (e: RateLimitError) => `${e.status} ${e.code}`,
        );
    expect(await status(a.key, 'gpt-4o-mini')).to.equal(200);
    expect(await status(a.key, 'gpt-4o')).to.equal('429 rate_limit_exceeded'); // the key's per-model limit
    expect(await status(a.key, 'o3-mini')).to.equal(200); // another model: only the team's limit
    expect(await status(b.key, 'o3-mini')).to.equal(200); // the team's third
    expect(await status(b.key, 'o3-mini')).to.equal('429 rate_limit_exceeded'); // the team's limit, from another key
    expect(fake.requests).to.have.length(3);
  });

  it('refuses before the call a request whose max_tokens cannot fit the token allowance, and counts the tokens answers use', async () => {
    const k = await make({ name: 'tpm', rate_limit: { tokens_per_minute: 300 } });
    const err = await openai(k.key)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: hi, max_tokens: 1000 })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RateLimitError);
    expect((err as RateLimitError).code).to.equal('rate_limit_exceeded');
    expect((err as RateLimitError).message).to.match(/needs up to \d+ tokens.*300 tokens per minute/);
    expect((err as RateLimitError).headers?.get('x-ratelimit-limit-tokens')).to.equal('300');
    expect(fake.requests).to.have.length(0);
    // Without max_tokens only the prompt is reserved; afterwards the answer's usage is what counts.
    const { data: first, response } = await openai(k.key).chat.completions.create({ model: 'gpt-4o-mini', messages: hi }).withResponse();
    const reservedFirst = 300 - Number(response.headers.get('x-ratelimit-remaining-tokens'));
    expect(reservedFirst).to.be.greaterThan(0);
    const used = first.usage!.prompt_tokens + first.usage!.completion_tokens;
    const { response: second } = await openai(k.key).chat.completions.create({ model: 'gpt-4o-mini', messages: hi }).withResponse();
    // The same request again reserves the same estimate: what is left is 300 minus the first's usage and the second's estimate.
    expect(Number(second.headers.get('x-ratelimit-remaining-tokens'))).to.equal(300 - used - reservedFirst);
  });

  it('a stream’s tokens count too, once it ends', async () => {
    const k = await make({ name: 'tpm-stream', rate_limit: { tokens_per_minute: 100_000 } });
    const stream = await openai(k.key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: hi,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage).to.not.equal(undefined);
    const spend = await admin(gw.url, 'GET', `/admin/spend?key=${k.id}`);
    expect(spend.json.data).to.have.length(1);
    expect(spend.json.data[0]).to.include({
      requests: 1,
      prompt_tokens: usage!.prompt_tokens,
      completion_tokens: usage!.completion_tokens,
      estimated_requests: 0,
    });
    const { response } = await openai(k.key).chat.completions.create({ model: 'gpt-4o-mini', messages: hi }).withResponse();
    expect(100_000 - Number(response.headers.get('x-ratelimit-remaining-tokens'))).to.be.greaterThan(usage!.total_tokens);
  });

  it('a stream the client abandons is charged an estimate flagged as such', async () => {
    const k = await make({ name: 'abandoner' });
    fake.enqueue({ kind: 'stream-stall', afterChunks: 2 });
    const ctrl = new AbortController();
    const stream = await openai(k.key).chat.completions.create({ model: 'dear-1', messages: hi, stream: true }, { signal: ctrl.signal });
    let chunks = 0;
    await (async () => {
      for await (const _ of stream) if (++chunks === 2) ctrl.abort();
    })().catch(() => undefined);
    let row: any;
    for (let i = 0; i < 50 && !row; i++) {
      row = (await admin(gw.url, 'GET', `/admin/spend?key=${k.id}`)).json.data[0];
      if (!row) await new Promise((r) => setTimeout(r, 50));
    }
    expect(row).to.include({ requests: 1, estimated_requests: 1, unpriced_requests: 0 });
    expect(row.completion_tokens).to.be.greaterThan(0);
    expect(row.cost_usd).to.equal(row.prompt_tokens + row.completion_tokens);
  });

  it('puts the cost on JSON answers (x-waygate-cost) from the price table, and says "unknown" for a model with no price', async () => {
    const k = await make({ name: 'costed' });
    const { data: res, response } = await openai(k.key).chat.completions.create({ model: 'gpt-4o-mini', messages: hi }).withResponse();
    // gpt-4o-mini in @pydantic/genai-prices: $0.15 in, $0.60 out per million tokens.
    const expected = (res.usage!.prompt_tokens * 0.15 + res.usage!.completion_tokens * 0.6) / 1e6;
    expect(Number(response.headers.get('x-waygate-cost'))).to.be.closeTo(expected, 1e-9);
    const unknown = await openai(k.key).chat.completions.create({ model: 'no-such-model-anywhere', messages: hi }).withResponse();
    expect(unknown.response.headers.get('x-waygate-cost')).to.equal('unknown');
    const byModel = (await admin(gw.url, 'GET', `/admin/spend?key=${k.id}&group_by=model`)).json.data;
    expect(byModel.map((g: any) => [g.model, g.unpriced_requests])).to.deep.equal([
      ['gpt-4o-mini', 0],
      ['no-such-model-anywhere', 1],
    ]);
    expect(byModel[0].cost_usd).to.be.closeTo(expected, 1e-9);
    // The log lines: the cost, or that the price is unknown (and a warning naming the model).
    const line = await logs.waitFor((r) => r.msg === 'request' && r.keyId === k.id && r.model === 'gpt-4o-mini', 'the priced request');
    expect(line.costUsd as number).to.be.closeTo(expected, 1e-9);
    const unpriced = await logs.waitFor((r) => r.msg === 'request' && r.keyId === k.id && r.model === 'no-such-model-anywhere', 'the unpriced request');
    expect(unpriced).to.include({ costUsd: null, priceUnknown: true });
    await logs.waitFor((r) => /no known price/.test(String(r.msg)) && r.model === 'no-such-model-anywhere', 'the unknown-price warning');
  });

  it('refuses a key over its budget with 429 budget_exceeded, never calling the upstream; a team’s budget too', async () => {
    const k = await make({ name: 'budgeted', budget: { usd: 3, period: 'day' } });
    const first = await openai(k.key).chat.completions.create({ model: 'dear-1', messages: hi });
    expect(first.usage!.total_tokens).to.be.at.least(3); // $1 a token: over the budget after one answer
    const err = await openai(k.key)
      .chat.completions.create({ model: 'dear-1', messages: hi })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RateLimitError);
    expect((err as RateLimitError).code).to.equal('budget_exceeded');
    expect((err as RateLimitError).message).to.match(/this key has spent \$\d+ of its \$3 this day/);
    expect(fake.requests).to.have.length(1);
    const shown = (await admin(gw.url, 'GET', `/admin/keys/${k.id}`)).json;
    expect(shown.spend).to.include({ usd_total: first.usage!.total_tokens, usd_period: first.usage!.total_tokens, period: 'day', budget_usd: 3 });

    expect((await admin(gw.url, 'POST', '/admin/teams', { id: 'thrifty', name: 'thrifty', budget: { usd: 1, period: 'total' } })).status).to.equal(201);
    const [m1, m2] = [await make({ name: 'm1', team: 'thrifty' }), await make({ name: 'm2', team: 'thrifty' })];
    await openai(m1.key).chat.completions.create({ model: 'dear-1', messages: hi });
    const teamErr = await openai(m2.key)
      .chat.completions.create({ model: 'dear-1', messages: hi })
      .catch((e: unknown) => e);
    expect((teamErr as RateLimitError).code).to.equal('budget_exceeded');
    expect((teamErr as RateLimitError).message).to.include('this team');
    expect((await admin(gw.url, 'GET', '/admin/teams/thrifty')).json.spend).to.include({ period: 'total', budget_usd: 1, usd_period: 4 });
    expect(fake.requests).to.have.length(2);
  });

  it('GET /admin/spend: grouped by team and provider over a range; a bad query is a 400 naming the field', async () => {
    const report = await admin(gw.url, 'GET', '/admin/spend?group_by=team,provider&team=thrifty');
    expect(report.status).to.equal(200);
    expect(report.json.data).to.have.length(1);
    expect(report.json.data[0]).to.include({ team: 'thrifty', provider: 'openai', requests: 1 });
    const future = await admin(gw.url, 'GET', '/admin/spend?from=2999-01-01&to=2999-02-01');
    expect(future.json.data).to.deep.equal([]);
    for (const [q, param] of [
      ['group_by=colour', 'group_by[0]'],
      ['from=yesterday', 'from'],
      ['bogus=1', 'bogus'],
      ['from=2030-02-01&to=2030-01-01', 'from'],
    ]) {
      const bad = await admin(gw.url, 'GET', `/admin/spend?${q}`);
      expect(bad.status, q).to.equal(400);
      expect(bad.json.error.param, q).to.equal(param);
    }
    expect((await fetch(`${gw.url}/admin/spend`)).status).to.equal(401);
  });
});

describe('limits and budgets of static keys (no store)', () => {
  let gw: Gateway;
  const made = newKey('static1');
  before(async () => {
    gw = await startGateway({
      config: configWith({
        prices: DEAR,
        keys: [{ id: made.id, name: 'static', sha256: made.hash, budget: { usd: 2, period: 'total' }, rate_limit: { requests_per_minute: 5 } }],
      }),
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
  });
  after(() => gw?.close(0));
  beforeEach(() => fake.reset());

  it('are kept in memory: the budget refuses once spent, the limit heads every answer', async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: made.key, maxRetries: 0 });
    const { response } = await openai.chat.completions.create({ model: 'dear-1', messages: hi }).withResponse();
    expect(response.headers.get('x-ratelimit-remaining-requests')).to.equal('4');
    const err = await openai.chat.completions.create({ model: 'dear-1', messages: hi }).catch((e: unknown) => e);
    expect((err as RateLimitError).code).to.equal('budget_exceeded');
    expect((err as RateLimitError).headers?.get('x-ratelimit-remaining-requests')).to.equal(null); // refused before it was counted
    expect(fake.requests).to.have.length(1);
  });
});

describe('two gateway processes sharing PostgreSQL and Redis: limits and budgets', () => {
  useRedis('the two-process rate-limit tests');
  const schema = runSchema('spend');
  let dir: { dir: string; cleanup: () => Promise<void> };
  let ran = false;
  let a: string;
  let b: string;
  before(async function () {
    this.timeout(60_000); // two CLI processes start: slow on a loaded machine
    await requirePostgres(this, 'the two-process spend tests');
    ran = true;
    dir = await tempDir('waygate-spend-two-');
    const config = await writeConfig(
      dir.dir,
      configWith({
        adminKey: ADMIN,
        store: { type: 'postgres', url: DATABASE_URL, schema },
        redis: { url: REDIS_URL, channel: `waygate:test:spend:${process.pid}` },
        rateLimits: { prefix: `waygate:test:rl:${process.pid}:${Date.now()}:` },
        prices: DEAR,
      }),
      'two.json',
    );
    const [pa, pb] = [spawnCli(['--config', config, '--port', '0']), spawnCli(['--config', config, '--port', '0'])];
    [a, b] = [(await pa.ready()).url, (await pb.ready()).url];
  });
  after(async () => {
    await killAllClis();
    await dir?.cleanup();
    if (ran) await dropSchema(schema);
  });
  beforeEach(() => fake.reset());

  const chat = (url: string, k: string, model = 'gpt-4o-mini') =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${k}` },
      body: JSON.stringify({ model, messages: hi }),
    }).then(async (r) => (r.status === 200 ? 200 : `${r.status} ${((await r.json()) as any).error.code}`));

  it('a limit of N per minute admits exactly N across both, sent at once', async () => {
    const k = (await admin(a, 'POST', '/admin/keys', { name: 'shared-rpm', rate_limit: { requests_per_minute: 7 } })).json;
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(i % 2 ? a : b, k.key)));
    expect(out.filter((s) => s === 200)).to.have.length(7);
    expect(out.filter((s) => s === '429 rate_limit_exceeded')).to.have.length(13);
    expect(fake.requests).to.have.length(7);
  });

  it('a budget is not overspent beyond the requests in flight', async () => {
    // Each answer costs the same whole number of dollars (tokens at $1); the budget is five answers' worth.
    const probe = (await admin(a, 'POST', '/admin/keys', { name: 'probe' })).json;
    expect(await chat(a, probe.key, 'dear-1')).to.equal(200);
    const each = (await admin(a, 'GET', `/admin/keys/${probe.id}`)).json.spend.usd_total as number;
    expect(each).to.be.greaterThan(0);
    const k = (await admin(a, 'POST', '/admin/keys', { name: 'shared-budget', budget: { usd: each * 5, period: 'month' } })).json;
    fake.reset();
    // Two at a time, one on each replica, until both are refused.
    const statuses: Array<number | string> = [];
    for (let round = 0; round < 10; round++) {
      const pair = await Promise.all([chat(a, k.key, 'dear-1'), chat(b, k.key, 'dear-1')]);
      statuses.push(...pair);
      if (pair.every((s) => s === '429 budget_exceeded')) break;
    }
    expect(statuses.at(-1)).to.equal('429 budget_exceeded');
    // Each replica writes its spend just after its answers: wait until the store holds every answer's.
    let spent = 0;
    await eventually(
      5000,
      async () => (spent = (await admin(b, 'GET', `/admin/keys/${k.id}`)).json.spend.usd_period) === each * fake.requests.length,
      'the spend of every answer in the store',
    );
    expect(spent).to.be.at.least(each * 5);
    // At most the two in flight together beyond the budget (one per replica).
    expect(spent).to.be.at.most(each * 5 + each * 2);
  });
});
