import { expect } from 'chai';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';

const silent = createLogger({ level: 'silent' });

async function startError(routing: unknown): Promise<Error> {
  try {
    const gw = await startGateway({ config: { routing }, port: 0, logger: silent });
    await gw.close(0);
  } catch (err) {
    return err as Error;
  }
  throw new Error('the gateway started');
}

const leaf = (name: string, extra: Record<string, unknown> = {}) => ({ provider: 'openai', name, custom_host: 'http://127.0.0.1:9/v1', ...extra });

describe('routing configs are checked where they are loaded, not on each request', () => {
  it('a file config whose loadbalance weights are all zero fails start-up, naming the path', async () => {
    const err = await startError({ strategy: { mode: 'loadbalance' }, targets: [leaf('a', { weight: 0 }), leaf('b', { weight: 0 })] });
    expect(err.message).to.match(/routing\.targets: all weights are zero/);
  });

  it('a file config with an unknown loadbalance policy, nested, fails start-up', async () => {
    const err = await startError({
      strategy: { mode: 'fallback' },
      targets: [leaf('a'), { strategy: { mode: 'loadbalance', policy: 'fastest' }, targets: [leaf('b')] }],
    });
    expect(err.message).to.match(/routing\.targets\[1\]\.strategy\.policy "fastest"/);
  });

  it('a file config with a malformed condition or a then naming no target fails start-up', async () => {
    const badRegex = await startError({
      strategy: { mode: 'conditional', conditions: [{ query: { 'params.model': { $regex: '(' } }, then: 'a' }], default: 'a' },
      targets: [leaf('a')],
    });
    expect(badRegex.message).to.match(/routing\.strategy\.conditions\[0\]/);
    const badThen = await startError({
      strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.tier': 'pro' }, then: 'nobody' }], default: 'a' },
      targets: [leaf('a')],
    });
    expect(badThen.message).to.match(/nobody/);
  });

  it('a file config naming a strategy no plugin registers fails start-up', async () => {
    const err = await startError({ strategy: { mode: 'round-robin' }, targets: [leaf('a')] });
    expect(err.message).to.match(/routing\.strategy\.mode "round-robin": no loaded plugin handles this routing strategy/);
  });

  describe('in a config header', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ config: {}, port: 0, logger: silent });
    });
    after(() => gw.close(0));

    it('an unknown mode or impossible weights are a 400 naming the path, and the upstream is never called', async () => {
      for (const [config, pattern] of [
        [{ strategy: { mode: 'round-robin' }, targets: [leaf('a')] }, /config\.strategy\.mode "round-robin".*loaded: .*fallback/],
        [{ strategy: { mode: 'loadbalance' }, targets: [leaf('a', { weight: 0 })] }, /config\.targets: all weights are zero/],
      ] as const) {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(config) },
          body: JSON.stringify({ model: 'm', messages: [] }),
        });
        expect(res.status).to.equal(400);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).to.equal('invalid_config');
        expect(body.error.message).to.match(pattern);
      }
    });
  });
});
