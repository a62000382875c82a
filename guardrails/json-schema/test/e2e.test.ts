// End to end: the real gateway with the OpenAI provider, the guardrails runner (@waygate/guardrails)
// and this package loaded by path, in front of a loopback fake, with Portkey-style configs.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { OpenAIFake, portkeyChat as chat } from '@waygate/core/testing';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const schema = { type: 'object', required: ['city'], properties: { city: { type: 'string' } } };
const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Where? Answer in JSON.' }] };

describe('@waygate/guardrail-json-schema end to end', function () {
  this.timeout(15_000);
  let up: OpenAIFake;
  let gw: Gateway;

  before(async () => {
    up = await OpenAIFake.start();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', '@waygate/provider-openai', '@waygate/strategy-single', '@waygate/guardrails', THIS_PACKAGE],
      },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });

  it('default.jsonSchema with deny passes a valid JSON answer and denies another with 446', async () => {
    const config = up.leaf({ output_guardrails: [{ 'default.jsonSchema': { schema }, deny: true }] });
    up.reply = '```json\n{"city": "Lyon"}\n```';
    expect((await chat(gw.url, config, ask)).status).to.equal(200);
    up.reply = '{"town": "Lyon"}';
    const res = await chat(gw.url, config, ask);
    expect(res.status).to.equal(446);
    expect(res.json.hook_results.after_request_hooks[0].checks[0]).to.deep.include({ id: 'default.jsonSchema', verdict: false });
  });

  it('jsonschema.validate is the same check under the package namespace', async () => {
    up.reply = '{"city": 3}';
    const res = await chat(
      gw.url,
      up.leaf({ after_request_hooks: [{ id: 'shape', type: 'guardrail', checks: [{ id: 'jsonschema.validate', parameters: { schema } }] }] }),
      ask,
    );
    expect(res.status).to.equal(246);
    expect(res.json.hook_results.after_request_hooks[0].checks[0].data.errors[0]).to.deep.equal({ path: '/city', message: 'must be string' });
  });

  it('an invalid schema is a 400 at config time, naming the parameter', async () => {
    const res = await chat(gw.url, up.leaf({ output_guardrails: [{ 'default.jsonSchema': { schema: { type: 'strin' } } }] }), ask);
    expect(res.status).to.equal(400);
    expect(res.json.error.message).to.match(/schema: schema is not a valid JSON Schema/);
  });
});
