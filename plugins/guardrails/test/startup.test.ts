// End to end: guardrails for every request in the plugin's options and in the config file's routing,
// checked at start-up; a bad one stops the gateway from starting.
import { expect } from 'chai';
import { createLogger, startGateway } from '@waygate/core';
import type { FileConfigInput, Gateway } from '@waygate/core';
import { FakeUpstream } from './upstream.js';
import { CHECKS, GUARDRAILS, chatBody, post } from './support.js';
import { budgets, resetChecks } from './checks-plugin.js';

const silent = createLogger({ level: 'silent' });

async function start(config: FileConfigInput): Promise<Gateway> {
  return startGateway({ config, port: 0, host: '127.0.0.1', logger: silent });
}

async function refused(config: FileConfigInput): Promise<Error> {
  try {
    const gw = await start(config);
    await gw.close(0);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the gateway to refuse to start');
}

describe('@waygate/guardrails: options and the config file', function () {
  this.timeout(10_000);
  let up: FakeUpstream;
  before(async () => {
    up = await FakeUpstream.start();
  });
  after(() => up.close());
  beforeEach(() => {
    up.reset();
    resetChecks();
  });

  it("guardrails in the plugin's options apply to every request, before the config's own", async () => {
    // The checks' package loads after the guardrails plugin: the ids are resolved once start-up ends.
    const gw = await start({
      defaultPlugins: false,
      plugins: [
        '@waygate/openai-api',
        '@waygate/provider-openai',
        {
          module: GUARDRAILS,
          options: {
            input: [{ 'test.contains': { words: ['banned'] }, deny: true }],
            output: [{ id: 'length', checks: [{ id: 'test.minLength', parameters: { min: 1000 } }] }],
          },
        },
        CHECKS,
      ],
    });
    try {
      const denied = await post(gw.url, up.leaf('a'), chatBody('a banned word'));
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0].id).to.equal('gateway_input_guardrail_0');
      expect(up.hits()).to.equal(0);

      const config = up.leaf('a', { input_guardrails: [{ 'test.seen': {} }] });
      const ok = await post(gw.url, config, chatBody('fine'));
      expect(ok.status).to.equal(246);
      expect(ok.json.hook_results.before_request_hooks.map((h: any) => h.id)).to.deep.equal(['gateway_input_guardrail_0', 'input_guardrail_0']);
      expect(ok.json.hook_results.after_request_hooks.map((h: any) => [h.id, h.verdict])).to.deep.equal([['length', false]]);
    } finally {
      await gw.close(0);
    }
  });

  it("guardrails in the config file's routing are checked at start-up and used when a request brings no config", async () => {
    const gw = await start({
      defaultPlugins: false,
      plugins: ['@waygate/openai-api', '@waygate/provider-openai', GUARDRAILS, CHECKS],
      routing: up.leaf('a', { input_guardrails: [{ 'test.contains': { words: ['banned'] }, deny: true }] }) as never,
    });
    try {
      const denied = await post(gw.url, undefined, chatBody('banned'));
      expect(denied.status).to.equal(446);
      const ok = await post(gw.url, undefined, chatBody('fine'));
      expect(ok.status).to.equal(200);
      expect(up.hits()).to.equal(1);
    } finally {
      await gw.close(0);
    }
  });

  it("an unknown check in the plugin's options stops start-up", async () => {
    const err = await refused({
      defaultPlugins: false,
      plugins: [
        '@waygate/openai-api',
        '@waygate/provider-openai',
        { module: GUARDRAILS, options: { input: [{ 'test.contans': { words: ['x'] } }] } },
        CHECKS,
      ],
    });
    expect(err.message).to.include('@waygate/guardrails: invalid guardrails in its options');
    expect(err.message).to.include('options.input[0]["test.contans"]: unknown guardrail check "test.contans"; did you mean "test.contains"?');
  });

  it('a malformed guardrail in the options stops the plugin from loading', async () => {
    const err = await refused({
      defaultPlugins: false,
      plugins: ['@waygate/openai-api', '@waygate/provider-openai', { module: GUARDRAILS, options: { output: ['pg-1'] } }],
    });
    expect(err.message).to.include('Cannot load plugin @waygate/guardrails');
    expect(err.message).to.include('options.output[0]');
  });

  it("a bad guardrail in the config file's routing stops start-up, naming its path", async () => {
    const err = await refused({
      defaultPlugins: false,
      plugins: ['@waygate/openai-api', '@waygate/provider-openai', '@waygate/strategy-fallback', GUARDRAILS, CHECKS],
      routing: { strategy: { mode: 'fallback' }, targets: [up.leaf('a', { output_guardrails: [{ 'test.minLength': { min: 'x' } }] })] } as never,
    });
    expect(err.message).to.include('routing.targets[0].output_guardrails[0]["test.minLength"].min');
  });

  describe("the operator's guardrails and a request's (regex budgets, file-only parameters)", () => {
    let gw: Gateway;
    before(async () => {
      gw = await start({
        defaultPlugins: false,
        plugins: [
          '@waygate/openai-api',
          '@waygate/provider-openai',
          { module: GUARDRAILS, options: { input: [{ 'test.budget': { engine: 'from-options' } }], regexWorkLimit: 12345 } },
          CHECKS,
        ],
        routing: up.leaf('a', { input_guardrails: [{ 'test.budget': { engine: 'from-file' } }] }) as never,
      });
    });
    after(() => gw.close(0));

    it("the config file's and the options' checks get no regex budget and may set file-only parameters", async () => {
      const res = await post(gw.url, undefined, chatBody('hi'));
      expect(res.status).to.equal(200);
      expect(budgets.map((b) => b.meter)).to.deep.equal([false, false]);
    });

    it("the file config stays the operator's when a request adds a custom host header to it", async () => {
      const res = await post(gw.url, undefined, chatBody('hi'), { headers: { 'x-waygate-custom-host': `${up.url}/a` } });
      expect(res.status).to.equal(200);
      expect(budgets.map((b) => b.meter)).to.deep.equal([false, false]);
    });

    it("a request's own checks (config header, default-guardrails header) share one budget per request, of regexWorkLimit", async () => {
      const res = await post(gw.url, up.leaf('a', { input_guardrails: [{ 'test.budget': {} }] }), chatBody('hi'), {
        headers: { 'x-waygate-default-input-guardrails': JSON.stringify([{ 'test.budget': {} }]) },
      });
      expect(res.status).to.equal(200);
      expect(budgets.map((b) => [b.meter, b.limit])).to.deep.equal([
        [false, undefined],
        [true, 12345],
        [true, 12345],
      ]);
      expect(budgets[1]!.object).to.equal(budgets[2]!.object);
      await post(gw.url, up.leaf('a', { input_guardrails: [{ 'test.budget': {} }] }), chatBody('hi'));
      expect(budgets[3]!.object, 'a new request, a new budget').not.to.equal(budgets[1]!.object);
    });

    it("a request's stream checks look early with a budget of their own", async () => {
      const res = await post(gw.url, up.leaf('a', { output_guardrails: [{ 'test.budget': {}, deny: true }] }), chatBody('hi', { stream: true }));
      expect(res.status).to.equal(200);
      const early = budgets.filter((b) => b.early);
      const runs = budgets.filter((b) => !b.early && b.meter);
      expect(early.length).to.be.greaterThan(0);
      expect(early.every((b) => b.meter && b.object === early[0]!.object)).to.equal(true);
      expect(runs.length).to.equal(1);
      expect(runs[0]!.object).not.to.equal(early[0]!.object);
    });

    it('a file-only parameter in a config header or a default-guardrails header is a 400 naming it', async () => {
      let res = await post(gw.url, up.leaf('a', { input_guardrails: [{ 'test.budget': { engine: 'javascript' } }] }), chatBody('hi'));
      expect(res.status).to.equal(400);
      expect(res.json.error.param).to.equal('config.input_guardrails[0]["test.budget"].engine');
      expect(res.json.error.message).to.match(/engine may only be set in the gateway's config file, not in a config sent with a request/);
      res = await post(gw.url, undefined, chatBody('hi'), {
        headers: { 'x-portkey-default-input-guardrails': JSON.stringify([{ checks: [{ id: 'test.budget', parameters: { engine: 'x' } }] }]) },
      });
      expect(res.status).to.equal(400);
      expect(res.json.error.param).to.equal('x-portkey-default-input-guardrails[0].checks[0].parameters.engine');
      expect(up.hits()).to.equal(0);
    });
  });
});
