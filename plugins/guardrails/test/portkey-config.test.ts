// End to end with the bundled `default` checks package: the input guardrail of Portkey's documented
// config example (a 16-digit number must not appear; deny) behaves as in Portkey. Skipped, saying so,
// when @waygate/guardrail-default is not built in this tree.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './upstream.js';
import { GUARDRAILS, chatBody, post } from './support.js';

function defaultChecksBuilt(): boolean {
  try {
    return existsSync(fileURLToPath(import.meta.resolve('@waygate/guardrail-default')));
  } catch {
    return false;
  }
}

describe('@waygate/guardrails with @waygate/guardrail-default: Portkey\'s config example', function () {
  this.timeout(10_000);
  let up: FakeUpstream;
  let gw: Gateway;

  before(async function () {
    if (!defaultChecksBuilt()) this.skip();
    up = await FakeUpstream.start();
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', '@waygate/provider-openai', GUARDRAILS, '@waygate/guardrail-default'] },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });

  const config = () => up.leaf('a', { input_guardrails: [{ 'default.regexMatch': { rule: '\\b\\d{16}\\b', not: true }, deny: true }] });

  it('denies a prompt with a card number (446, no upstream call) and lets others through', async () => {
    const denied = await post(gw.url, config(), chatBody('my card is 4111111111111111'));
    expect(denied.status).to.equal(446);
    expect(denied.json.hook_results.before_request_hooks[0].checks[0]).to.include({ id: 'default.regexMatch', verdict: false });
    expect(up.hits()).to.equal(0);
    const ok = await post(gw.url, config(), chatBody('no numbers here'));
    expect(ok.status).to.equal(200);
    expect(ok.json.hook_results.before_request_hooks[0]).to.include({ verdict: true });
    expect(up.hits()).to.equal(1);
  });

  it('the same check without the namespace (`regexMatch`) is `default.regexMatch`, as in Portkey', async () => {
    const res = await post(gw.url, up.leaf('a', { input_guardrails: [{ regexMatch: { rule: 'x' }, deny: true }] }), chatBody('no match'));
    expect(res.status).to.equal(446);
  });
});
