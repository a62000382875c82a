// End to end: a guardrail package from outside the repository's workspaces (test/fixtures/acme-guardrail,
// plain JavaScript, loaded by a path in the config) registers its checks, and they run through the
// gateway like the bundled ones: config validation, deny, a mutator, and an early stop on a stream.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './upstream.js';
import { GUARDRAILS, chatBody, post, streamedText } from './support.js';

/** test/fixtures, from plugins/guardrails/dist/test. */
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));

describe('@waygate/guardrails: a third-party guardrail package', function () {
  this.timeout(10_000);
  let up: FakeUpstream;
  let gw: Gateway;

  before(async () => {
    up = await FakeUpstream.start();
    gw = await startGateway({
      // Plugin paths are relative to the config's directory (here: baseDir).
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', '@waygate/provider-openai', GUARDRAILS, { module: './acme-guardrail/index.js', options: { namespace: 'acme' } }],
      },
      baseDir: FIXTURES,
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => up.reset());

  it('is loaded from its path and listed with its own name and version', async () => {
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { plugins: Array<{ name: string; version: string; kind: string }> };
    expect(health.plugins).to.deep.include({ name: 'acme-waygate-guardrail', version: '0.3.1', kind: 'guardrail' });
  });

  it('its check denies a request (446, no upstream call) and lets others through', async () => {
    const config = up.leaf('a', { input_guardrails: [{ 'acme.bannedTopics': { topics: ['Weather'] }, deny: true }] });
    const denied = await post(gw.url, config, chatBody('what is the weather like?'));
    expect(denied.status).to.equal(446);
    expect(denied.json.hook_results.before_request_hooks[0].checks[0]).to.deep.include({
      id: 'acme.bannedTopics',
      verdict: false,
      data: { hits: ['weather'] },
    });
    expect(up.hits()).to.equal(0);
    const ok = await post(gw.url, config, chatBody('tell me a joke'));
    expect(ok.status).to.equal(200);
    expect(up.hits()).to.equal(1);
  });

  it('its mutator changes what the upstream receives', async () => {
    const config = up.leaf('a', { input_mutators: [{ 'acme.mask': { pattern: '\\d{4}-\\d{4}' } }] });
    const res = await post(gw.url, config, chatBody('my card 1234-5678 please'));
    expect(res.status).to.equal(200);
    expect(up.received[0]!.body.messages[0].content).to.equal('my card *** please');
  });

  it('its parameters are validated by its own schema, and a misspelled id is a 400 with close matches', async () => {
    const badRegex = await post(gw.url, up.leaf('a', { input_mutators: [{ 'acme.mask': { pattern: '(' } }] }), chatBody('x'));
    expect(badRegex.status).to.equal(400);
    expect(badRegex.json.error.message).to.include('config.input_mutators[0]["acme.mask"].pattern: not a valid regular expression');
    const typo = await post(gw.url, up.leaf('a', { output_guardrails: [{ 'acme.bannedTopic': { topics: ['x'] } }] }), chatBody('x'));
    expect(typo.status).to.equal(400);
    expect(typo.json.error.message).to.include('did you mean "acme.bannedTopics"?');
    const wrongSide = await post(gw.url, up.leaf('a', { output_mutators: [{ 'acme.mask': { pattern: 'x' } }] }), chatBody('x'));
    expect(wrongSide.status).to.equal(400);
    expect(up.hits()).to.equal(0);
  });

  it('its early decision stops a stream midway', async () => {
    up.chunks = ['The ', 'weather ', 'today'];
    up.hang = true;
    const config = up.leaf('a', { output_guardrails: [{ 'acme.bannedTopics': { topics: ['weather'] }, deny: true }] });
    const res = await post(gw.url, config, chatBody('hi', { stream: true }));
    const last = JSON.parse(res.events[res.events.length - 1]!.data);
    expect(last.error.code).to.equal('guardrail_denied');
    expect(last.error.message).to.include('acme.bannedTopics');
    expect(streamedText(res.events.slice(0, -1))).to.equal('The ');
    expect((await up.lastStream!.closed).finished).to.equal(false);
  });
});
