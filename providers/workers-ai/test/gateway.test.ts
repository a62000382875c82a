// The workers-ai adapter in a gateway, in front of a loopback fake of Workers AI's REST API: the
// account id from a Portkey config filling the config file's templated base_url, completions and
// embeddings (floats and base64), and streams that are cut, malformed or fail mid-way.
import { expect } from 'chai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { FakeWorkersAI } from './fake.js';

const ACCOUNT = 'fedcba9876543210fedcba9876543210';
const MODEL = '@cf/meta/llama-3.1-8b-instruct';

describe('workers-ai through a gateway', function () {
  this.timeout(20_000);
  let fake: FakeWorkersAI;
  let gw: Gateway;

  before(async () => {
    fake = await FakeWorkersAI.start();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', new URL('../src/index.js', import.meta.url).pathname],
        providers: { 'workers-ai': { api_key: 'cf-token', base_url: `${fake.url}/client/v4/accounts/{workers_ai_account_id}/ai/run` } },
      },
      port: 0,
      logger: silent,
    });
  });
  after(async () => {
    await gw?.close(0);
    await fake?.close();
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.fault = 'none';
  });

  const post = (
    route: string,
    body: Record<string, unknown>,
    config: Record<string, unknown> = { provider: 'workers-ai', workers_ai_account_id: ACCOUNT },
  ) =>
    fetch(`${gw.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-config': JSON.stringify(config) },
      body: JSON.stringify(body),
    });

  it("a Portkey config's workers_ai_account_id fills the account into /accounts/{id}/ai/run/{model}", async () => {
    const res = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].message.content).to.equal('You said: hi');
    expect(json.usage).to.deep.equal({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    expect(fake.seen.map((s) => `${s.url} ${s.authorization}`)).to.deep.equal([`/client/v4/accounts/${ACCOUNT}/ai/run/${MODEL} Bearer cf-token`]);
  });

  it('without the account id: a 400 naming workers_ai_account_id, nothing sent', async () => {
    const res = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, { provider: 'workers-ai' });
    const json = (await res.json()) as any;
    expect(res.status).to.equal(400);
    expect(json.error.code).to.equal('invalid_config');
    expect(json.error.message).to.include('workers_ai_account_id');
    expect(fake.seen).to.have.length(0);
  });

  it('answers completions, JSON and streamed', async () => {
    const res = await post('/v1/completions', { model: MODEL, prompt: 'Once', max_tokens: 3 });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.object).to.equal('text_completion');
    expect(json.choices[0]).to.include({ text: 'You said: Once', finish_reason: 'length' });
    expect(fake.seen[0]!.body).to.deep.equal({ prompt: 'Once', max_tokens: 3 });

    const streamed = await post('/v1/completions', { model: MODEL, prompt: 'Once', stream: true, stream_options: { include_usage: true } });
    const text = await streamed.text();
    const chunks = text
      .split('\n\n')
      .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
      .map((l) => JSON.parse(l.slice(6)));
    expect(chunks.flatMap((c) => c.choices.map((ch: any) => ch.text)).join('')).to.equal('You said: Once');
    expect(chunks.at(-1).usage).to.deep.equal({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
    expect(text.trimEnd().endsWith('data: [DONE]')).to.equal(true);
  });

  it('answers embeddings as floats and as base64 float32', async () => {
    const floats = (await (
      await post('/v1/embeddings', { model: '@cf/baai/bge-small-en-v1.5', input: ['hello', 'hi'], encoding_format: 'float' })
    ).json()) as any;
    expect(floats.data.map((d: any) => d.embedding)).to.deep.equal([
      [5, 0, 1],
      [2, 1, 1],
    ]);
    expect(fake.seen[0]!.body).to.deep.equal({ text: ['hello', 'hi'] });
    const b64 = (await (await post('/v1/embeddings', { model: '@cf/baai/bge-small-en-v1.5', input: 'hello', encoding_format: 'base64' })).json()) as any;
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    expect([buf.readFloatLE(0), buf.readFloatLE(4), buf.readFloatLE(8)]).to.deep.equal([5, 0, 1]);
  });

  for (const fault of ['cut', 'not-json', 'error-envelope'] as const) {
    it(`a stream that is ${fault} after content ends with a terminal error event, not [DONE]`, async () => {
      fake.fault = fault;
      const res = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true });
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(text).to.include('"content":"You"');
      expect(text).to.include('"error"');
      expect(text).to.not.include('[DONE]');
      if (fault === 'error-envelope') expect(text).to.include('No more data centers');
    });
  }

  it("a wrong token: Cloudflare's 401 with its message, the token not echoed", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-portkey-config': JSON.stringify({ provider: 'workers-ai', workers_ai_account_id: ACCOUNT, api_key: 'wrong-token-abcdefgh' }),
      },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const json = (await res.json()) as any;
    expect(res.status).to.equal(401);
    expect(json.error.message).to.equal('workers-ai: Authentication error (code 10000)');
    expect(JSON.stringify(json)).to.not.include('wrong-token');
  });
});
