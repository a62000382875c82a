// The pieces of rate limits and cost on their own: counters (memory and Redis, and Redis going
// away), the reset format, prices (the bundled table, cached input, overrides, unknown models).
import { expect } from 'chai';
import net from 'node:net';
import { REDIS_URL, useRedis } from '@waygate/core/testing';
import { MemoryCounters, RedisCounters, rateLimitHeaders, resetText } from '../src/ratelimit.js';
import { calcPrice } from '@pydantic/genai-prices';
import { PriceBook, tokensOf } from '../src/cost.js';
import { periodStart } from '../src/spend.js';

const quiet = { warn() {}, info() {}, error() {}, debug() {} } as never;
const T = Date.UTC(2030, 0, 1, 12, 0, 30); // 30 s into a minute

describe('@waygate/auth rate-limit counters', () => {
  it('admits while every bucket has room, counts in all of them at once, and settles the estimate', async () => {
    const c = new MemoryCounters();
    const buckets = [
      { id: 'key:a', rpm: 2, tpm: 100 },
      { id: 'team:t', rpm: 3 },
    ];
    const first = await c.admit(buckets, 40, T);
    expect(first.ok).to.equal(true);
    expect(rateLimitHeaders(first.states, first.window, T)).to.deep.equal({
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '60',
      'x-ratelimit-reset-tokens': '30s',
    });
    // The answer used 10 tokens, not 40: the next request of 80 fits.
    await c.settle(buckets, first.window, -30);
    const second = await c.admit(buckets, 80, T);
    expect(second.ok).to.equal(true);
    const third = await c.admit([{ id: 'team:t', rpm: 3 }], 0, T);
    expect(third.ok).to.equal(true);
    const refused = await c.admit(buckets, 0, T);
    expect(refused).to.include({ ok: false, what: 'requests' });
    expect(refused.ok === false && refused.refusedBy.id).to.equal('key:a');
    // A refusal counts nothing; the next minute starts from zero.
    expect((await c.admit([{ id: 'team:t', rpm: 3 }], 0, T)).ok).to.equal(false);
    expect((await c.admit(buckets, 0, T + 30_000)).ok).to.equal(true);
  });

  it('refuses a token estimate larger than what is left, before counting it', async () => {
    const c = new MemoryCounters();
    const a = await c.admit([{ id: 'k', tpm: 50 }], 51, T);
    expect(a).to.include({ ok: false, what: 'tokens' });
    expect((await c.admit([{ id: 'k', tpm: 50 }], 50, T)).ok).to.equal(true);
  });

  it('formats the reset as OpenAI does', () => {
    expect([resetText(20), resetText(1000), resetText(59_001), resetText(61_000)]).to.deep.equal(['20ms', '1s', '1m0s', '1m1s']);
  });

  describe('in Redis', () => {
    useRedis('the Redis counter tests');
    it('shares the counts between two counters (two replicas), and settles', async () => {
      const prefix = `waygate:test:rl-unit:${process.pid}:${Date.now()}:`;
      const [x, y] = [new RedisCounters(REDIS_URL, prefix, 1000, quiet), new RedisCounters(REDIS_URL, prefix, 1000, quiet)];
      try {
        const b = [{ id: 'key:shared', rpm: 3, tpm: 1000 }];
        const out = await Promise.all([x, y, x, y, x].map((c) => c.admit(b, 100, T)));
        expect(out.filter((a) => a.ok)).to.have.length(3);
        await x.settle(b, out[0]!.window, -250);
        const after = await y.admit([{ id: 'key:shared', tpm: 1000 }], 0, T);
        expect(after.states[0]).to.include({ requests: 4, tokens: 50 });
      } finally {
        await Promise.all([x.close(), y.close()]);
      }
    });
  });

  it('counts in this process when Redis does not answer, rather than failing the request', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const c = new RedisCounters(`redis://127.0.0.1:${port}`, 'x:', 200, quiet);
    try {
      const b = [{ id: 'key:down', rpm: 1 }];
      expect((await c.admit(b, 0, T)).ok).to.equal(true);
      expect((await c.admit(b, 0, T)).ok).to.equal(false);
    } finally {
      await c.close();
      server.close();
    }
  });
});

describe('@waygate/auth prices', () => {
  it('prices from the bundled table, cached input at its own rate', () => {
    const book = new PriceBook({});
    const t = tokensOf({ prompt_tokens: 1000, completion_tokens: 500, prompt_tokens_details: { cached_tokens: 200 } })!;
    // gpt-4o-mini: $0.15 / M input, $0.075 / M cached input, $0.60 / M output.
    expect(book.cost('gpt-4o-mini', 'openai', t)).to.be.closeTo((800 * 0.15 + 200 * 0.075 + 500 * 0.6) / 1e6, 1e-12);
    // A provider the table files the model under another name for (a custom host): by the model alone.
    expect(book.cost('gpt-4o-mini', 'openai-compatible', t)).to.be.closeTo((800 * 0.15 + 200 * 0.075 + 500 * 0.6) / 1e6, 1e-12);
    expect(book.cost('no-such-model-anywhere', 'openai', t)).to.equal(undefined);
    expect(book.cost(undefined, 'openai', t)).to.equal(undefined);
  });

  it('prices as the table’s own calculation does: plain, cached, tiered (past 200k input tokens), per provider', () => {
    const book = new PriceBook({});
    const models: Array<[string, string, string]> = [
      ['gpt-4o-mini', 'openai', 'openai'],
      ['o3-mini', 'openai', 'openai'],
      ['claude-3-5-sonnet-20241022', 'anthropic', 'anthropic'],
      ['claude-sonnet-4-5', 'anthropic', 'anthropic'],
      ['gemini-2.5-pro', 'google', 'google'],
      ['gemini-1.5-pro', 'vertex-ai', 'google'],
    ];
    for (const [model, provider, tableId] of models) {
      for (const [input, output, read, write] of [
        [1000, 500, 0, 0],
        [1000, 500, 200, 100],
        [300_000, 800, 100_000, 50_000],
      ] as const) {
        const want = calcPrice({ input_tokens: input, output_tokens: output, cache_read_tokens: read, cache_write_tokens: write }, model, {
          providerId: tableId,
        })!.total_price;
        const got = book.cost(model, provider, { input, output, cachedRead: read, cacheWrite: write, reasoning: 0 });
        expect(got, `${model} ${input}/${output}/${read}/${write}`).to.be.closeTo(want, want * 1e-9);
      }
    }
  });

  it('uses the operator’s price for the models it names, with cache reads and writes (Anthropic’s counts)', () => {
    const book = new PriceBook({ 'house-*': { input_per_mtok: 10, output_per_mtok: 20, cached_input_per_mtok: 1, cache_write_per_mtok: 12 } });
    const t = tokensOf({ prompt_tokens: 1000, completion_tokens: 100, cache_read_input_tokens: 300, cache_creation_input_tokens: 200 })!;
    expect(t).to.deep.include({ input: 1000, cachedRead: 300, cacheWrite: 200 });
    expect(book.cost('house-1', 'openai', t)).to.be.closeTo((500 * 10 + 300 * 1 + 200 * 12 + 100 * 20) / 1e6, 1e-12);
    expect(new PriceBook({ 'gpt-4o-mini': { input_per_mtok: 1, output_per_mtok: 1 } }).cost('gpt-4o-mini', 'openai', t)).to.be.closeTo(1100 / 1e6, 1e-12);
  });

  it('counts reasoning tokens apart (they are billed as output)', () => {
    expect(tokensOf({ prompt_tokens: 1, completion_tokens: 9, completion_tokens_details: { reasoning_tokens: 7 } })).to.deep.include({
      output: 9,
      reasoning: 7,
    });
  });

  it('starts budget periods at UTC midnight, the month’s first day, or the epoch', () => {
    const at = new Date('2030-05-17T13:14:15.000Z');
    expect([periodStart('day', at), periodStart('month', at), periodStart('total', at)]).to.deep.equal([
      '2030-05-17T00:00:00.000Z',
      '2030-05-01T00:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
    ]);
  });
});
