// The Redis test support of @waygate/core/testing, which this package's tests (and the circuit breaker's
// and the semantic cache's) stand on: the reachability check and its CI rule, the RESP client behind
// it, key clean-up by prefix, and the TCP proxy that plays outages. Against a real Redis (REDIS_URL).
import { expect } from 'chai';
import net from 'node:net';
import { REDIS_URL, RespClient, TcpProxy, deletePrefix, eventually, redisUnreachable, requireRedis, useRedis } from '../src/testing/index.js';

const PREFIX = `waygate:test:support:${process.pid}:${Date.now()}:`;
const DEAD = 'redis://:secret@127.0.0.1:1';

/** Runs `fn` with CI set to `value` (or unset), and console.warn captured. */
async function withCi(value: string | undefined, fn: () => Promise<void>): Promise<string[]> {
  const saved = process.env.CI;
  const warn = console.warn;
  const warned: string[] = [];
  console.warn = (...args: unknown[]) => void warned.push(args.join(' '));
  if (value === undefined) delete process.env.CI;
  else process.env.CI = value;
  try {
    await fn();
  } finally {
    console.warn = warn;
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
  return warned;
}

describe('@waygate/core/testing Redis support', function () {
  describe('without a Redis', () => {
    it('redisUnreachable says why nothing answers', async () => {
      expect(await redisUnreachable('redis://127.0.0.1:1')).to.match(/ECONNREFUSED/);
      expect(await redisUnreachable('not a url')).to.match(/Invalid URL/);
    });

    it('requireRedis: with CI=true a missing Redis fails the suite, naming the tests and hiding the password', async () => {
      let skipped = false;
      let failure: Error | undefined;
      const warned = await withCi('true', async () => {
        await requireRedis({ skip: () => void (skipped = true) }, 'the widget tests', DEAD).catch((err: Error) => void (failure = err));
      });
      expect(skipped).to.equal(false);
      expect(warned).to.deep.equal([]);
      expect(failure?.message).to.match(
        /^no Redis answers at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(.*ECONNREFUSED.*\): CI=true requires a Redis for the widget tests$/,
      );
    });

    it('requireRedis: elsewhere it skips the suite with a message saying how to run it', async () => {
      let skipped = false;
      const warned = await withCi(undefined, () => requireRedis({ skip: () => void (skipped = true) }, 'the widget tests', DEAD));
      expect(skipped).to.equal(true);
      expect(warned).to.have.length(1);
      expect(warned[0]).to.match(
        /^ {6}skipping the widget tests: no Redis answers at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(.+\); start one or set REDIS_URL$/,
      );
      expect(warned[0]).to.not.include('secret');
    });

    it('eventually resolves once the check holds, and fails naming what was awaited', async () => {
      let n = 0;
      await eventually(5_000, () => ++n === 3, 'the third call');
      expect(n).to.equal(3);
      const err = await eventually(20, async () => false, 'a thing that never happens').catch((e: Error) => e);
      expect((err as Error).message).to.equal('a thing that never happens: not seen within 20 ms');
    });
  });

  describe('against a real Redis', function () {
    let client: RespClient;

    useRedis('the Redis test-support tests', PREFIX);
    before(async () => {
      client = await RespClient.connect(REDIS_URL);
    });
    after(() => client?.close());

    it('requireRedis returns without skipping when a Redis answers, CI or not', async () => {
      let skipped = false;
      const warned = await withCi('true', () => requireRedis({ skip: () => void (skipped = true) }, 'x'));
      expect([skipped, warned]).to.deep.equal([false, []]);
      expect(await redisUnreachable()).to.equal(undefined);
    });

    it('RespClient decodes each kind of reply, in order, including one split over many reads', async () => {
      const big = 'é'.repeat(300_000);
      const replies = await Promise.all([
        client.command('SET', `${PREFIX}s`, 'héllo'),
        client.command('GET', `${PREFIX}s`),
        client.command('GET', `${PREFIX}absent`),
        client.command('INCRBY', `${PREFIX}n`, '41'),
        client.command('RPUSH', `${PREFIX}l`, 'a', '', 'c'),
        client.command('LRANGE', `${PREFIX}l`, '0', '-1'),
        client.command('SET', `${PREFIX}big`, big),
        client.command('GET', `${PREFIX}big`),
      ]);
      expect(replies.slice(0, 7)).to.deep.equal(['OK', 'héllo', null, 41, 3, ['a', '', 'c'], 'OK']);
      expect(replies[7]).to.equal(big);
      const err = await client.command('NO-SUCH-COMMAND').catch((e: Error) => e);
      expect((err as Error).message).to.match(/^ERR unknown command/);
      // An error reply fails only its own command.
      expect(await client.command('PING')).to.equal('PONG');
    });

    it('deletePrefix deletes every key under the prefix and nothing else, glob characters included', async () => {
      const base = `${PREFIX}del:`;
      await Promise.all(Array.from({ length: 2500 }, (_, i) => client.command('SET', `${base}[x]*:${i}`, 'v')));
      await client.command('SET', `${base}[x]-other`, 'keep');
      await client.command('SET', `${base}x*:1`, 'keep');
      await deletePrefix(`${base}[x]*`);
      const left = (await client.command('KEYS', `${base}*`)) as string[];
      expect(left.sort()).to.deep.equal([`${base}[x]-other`, `${base}x*:1`]);
    });

    it('TcpProxy: cut drops open connections and refuses new ones; resume listens on the same port again', async () => {
      const proxy = await TcpProxy.forRedis(REDIS_URL);
      try {
        const url = proxy.urlFor(REDIS_URL);
        expect(new URL(url).port).to.equal(String(proxy.port));
        const through = await RespClient.connect(url);
        expect(await through.command('PING')).to.equal('PONG');
        const port = proxy.port;
        await proxy.cut();
        expect((await through.command('PING').catch((e: Error) => e)) as Error).to.be.instanceOf(Error);
        expect(await redisUnreachable(url)).to.match(/ECONNREFUSED/);
        await proxy.resume();
        expect(proxy.port).to.equal(port);
        expect(await redisUnreachable(url)).to.equal(undefined);
      } finally {
        await proxy.close();
      }
      expect(await proxy.resume().catch((e: Error) => e.message)).to.match(/after close/);
    });

    it('TcpProxy: freeze holds what clients send (the connection stays open); thaw passes it on', async () => {
      const proxy = await TcpProxy.forRedis(REDIS_URL);
      const through = await RespClient.connect(proxy.urlFor(REDIS_URL), 5_000);
      try {
        expect(await through.command('PING')).to.equal('PONG');
        proxy.freeze();
        let answered = false;
        const pending = through.command('SET', `${PREFIX}frozen`, '1').then((r) => {
          answered = true;
          return r;
        });
        // Redis itself never sees the command while the proxy is frozen.
        const probe = await RespClient.connect(REDIS_URL);
        try {
          for (let i = 0; i < 5; i++) {
            expect(await probe.command('EXISTS', `${PREFIX}frozen`)).to.equal(0);
            await new Promise((r) => setTimeout(r, 10));
          }
        } finally {
          probe.close();
        }
        expect(answered).to.equal(false);
        proxy.thaw();
        expect(await pending).to.equal('OK');
      } finally {
        through.close();
        await proxy.close();
      }
    });

    it('TcpProxy.start proxies any TCP service', async () => {
      const echo = net.createServer((s) => s.pipe(s));
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      const proxy = await TcpProxy.start('127.0.0.1', (echo.address() as net.AddressInfo).port);
      try {
        const sock = net.connect(proxy.port, '127.0.0.1');
        const back = await new Promise<string>((resolve, reject) => {
          sock.once('data', (d) => resolve(d.toString()));
          sock.once('error', reject);
          sock.write('ping');
        });
        sock.destroy();
        expect(back).to.equal('ping');
      } finally {
        await proxy.close();
        await new Promise((r) => echo.close(r));
      }
    });
  });
});
