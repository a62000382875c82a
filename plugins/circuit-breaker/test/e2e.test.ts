// End to end: the real gateway (startGateway) with the OpenAI provider and this plugin, in front of a
// tiny OpenAI-shaped upstream on loopback (the test kit's Upstream; every target here calls it as "up").
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { Upstream, chat as post } from '@waygate/core/testing';

const BREAKER_PLUGIN = fileURLToPath(new URL('../src/index.js', import.meta.url));
const silent = createLogger({ level: 'silent' });

describe('@waygate/circuit-breaker end to end', function () {
  let upstream: Upstream;
  let gw: Gateway;

  before(async () => {
    upstream = await Upstream.start();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', '@waygate/provider-openai', { module: BREAKER_PLUGIN, options: { failureThreshold: 3, cooldownMs: 300 } }],
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
  beforeEach(() => upstream.reset());

  /** One chat completion through the gateway to the upstream with this key (a key is a target of its own). */
  async function chat(apiKey: string) {
    const { status, json } = await post(gw.url, upstream.leaf('up', { api_key: apiKey }));
    return { status, body: json };
  }

  it('opens after 3 failures, then answers 503 no_available_target without calling the upstream', async () => {
    upstream.status.up = 503;
    for (let i = 0; i < 3; i++) {
      const res = await chat('sk-a');
      expect(res.status).to.equal(503);
      expect(res.body.error.message).to.equal('up failed with 503');
    }
    expect(upstream.hits).to.have.length(3);

    const refused = await chat('sk-a');
    expect(refused.status).to.equal(503);
    expect(refused.body.error.code).to.equal('no_available_target');
    expect(upstream.hits).to.have.length(3);

    // Another key is another target: its circuit is closed.
    upstream.status.up = 200;
    expect((await chat('sk-b')).status).to.equal(200);
    expect(upstream.hits).to.have.length(4);
    expect((await chat('sk-a')).body.error.code).to.equal('no_available_target');
    expect(upstream.hits).to.have.length(4);
  });

  it('after the cooldown one probe goes through, and its success closes the circuit', async () => {
    upstream.status.up = 503;
    for (let i = 0; i < 3; i++) await chat('sk-c');
    expect((await chat('sk-c')).body.error.code).to.equal('no_available_target');
    await new Promise((resolve) => setTimeout(resolve, 350));
    upstream.status.up = 200;
    upstream.hits.length = 0;
    const probe = await chat('sk-c');
    expect(probe.status).to.equal(200);
    expect(upstream.hits).to.have.length(1);
    for (let i = 0; i < 3; i++) expect((await chat('sk-c')).status).to.equal(200);
    expect(upstream.hits).to.have.length(4);
  });

  it("does not count the caller's 4xx", async () => {
    upstream.status.up = 400;
    for (let i = 0; i < 6; i++) expect((await chat('sk-d')).status).to.equal(400);
    expect(upstream.hits).to.have.length(6);
  });
});
