// The triton adapter in a gateway, in front of a loopback fake of Triton's generate extension: the
// custom host as the server's root or as Portkey's model URL, versions, the `inputs` request format,
// completions, the model list, and streams that carry an error, a malformed event or are cut.
import { expect } from 'chai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { FakeTriton } from './fake.js';

const chunks = (text: string): any[] =>
  text
    .split('\n\n')
    .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
    .map((l) => JSON.parse(l.slice(6)));

describe('triton through a gateway', function () {
  this.timeout(20_000);
  let fake: FakeTriton;
  let gw: Gateway;

  before(async () => {
    fake = await FakeTriton.start();
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', new URL('../src/index.js', import.meta.url).pathname] },
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

  const send = (route: string, body: Record<string, unknown> | undefined, config: Record<string, unknown> = {}, method = 'POST') =>
    fetch(`${gw.url}${route}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-portkey-config': JSON.stringify({ provider: 'triton', custom_host: fake.url, ...config }) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const hi = (model = 'ensemble') => ({ model, messages: [{ role: 'user', content: 'hi' }] });

  it('the server root and the model: /v2/models/{model}/generate, messages flattened', async () => {
    const res = await send('/v1/chat/completions', hi());
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].message.content).to.equal('You said: hi');
    expect(json.model).to.equal('ensemble');
    expect(fake.seen).to.deep.equal([
      { url: '/v2/models/ensemble/generate', body: { text_input: 'User: hi\nAssistant:', parameters: { stream: false } } },
    ]);
  });

  it("Portkey's custom host (the model's URL, /v2/models/<name>) is used as it is; a version in the model too", async () => {
    await (await send('/v1/chat/completions', hi('whatever'), { custom_host: `${fake.url}/v2/models/vllm_model` })).arrayBuffer();
    await (await send('/v1/chat/completions', hi('ensemble/versions/2'))).arrayBuffer();
    expect(fake.seen.map((s) => s.url)).to.deep.equal(['/v2/models/vllm_model/generate', '/v2/models/ensemble/versions/2/generate']);
  });

  it('triton_request_format "inputs" sends the fields top-level (TensorRT-LLM ensemble); a bad value is a 400', async () => {
    await (await send('/v1/chat/completions', { ...hi(), max_tokens: 8, temperature: 0 }, { triton_request_format: 'inputs' })).arrayBuffer();
    expect(fake.seen[0]!.body).to.deep.equal({ text_input: 'User: hi\nAssistant:', max_tokens: 8, temperature: 0, stream: false });
    const bad = await send('/v1/chat/completions', hi(), { triton_request_format: 'tensors' });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as any).error.param).to.equal('config.triton_request_format');
  });

  it('answers completions, JSON and streamed', async () => {
    const json = (await (await send('/v1/completions', { model: 'ensemble', prompt: 'User: Once' })).json()) as any;
    expect(json.object).to.equal('text_completion');
    expect(json.choices[0].text).to.equal('You said: Once');
    const text = await (await send('/v1/completions', { model: 'ensemble', prompt: 'User: Once', stream: true })).text();
    expect(
      chunks(text)
        .map((c) => c.choices[0].text)
        .join(''),
    ).to.equal('You said: Once');
    expect(chunks(text).at(-1).choices[0].finish_reason).to.equal('stop');
    expect(text.trimEnd().endsWith('data: [DONE]')).to.equal(true);
    expect(fake.seen.at(-1)!.url).to.equal('/v2/models/ensemble/generate_stream');
  });

  it('lists the READY models of the repository index', async () => {
    const res = await send('/v1/models', undefined, {}, 'GET');
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.data.map((m: any) => m.id)).to.deep.equal(['ensemble', 'vllm_model']);
    expect(fake.seen.map((s) => s.url)).to.deep.equal(['/v2/repository/index']);
  });

  it("an unknown model: Triton's 400 and its message", async () => {
    const res = await send('/v1/chat/completions', hi('llama9'));
    expect(res.status).to.equal(400);
    expect(((await res.json()) as any).error.message).to.equal("triton: Request for unknown model: 'llama9' is not found");
  });

  it('tools are a 400 before anything is sent', async () => {
    const res = await send('/v1/chat/completions', { ...hi(), tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] });
    expect(res.status).to.equal(400);
    expect(fake.seen).to.have.length(0);
  });

  for (const fault of ['error-event', 'not-json', 'cut'] as const) {
    it(`a stream with ${fault} after content ends with a terminal error event, not [DONE]`, async () => {
      fake.fault = fault;
      const res = await send('/v1/chat/completions', { ...hi(), stream: true });
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(text).to.include('"content":"You"');
      expect(text).to.include('"error"');
      expect(text).to.not.include('[DONE]');
      if (fault === 'error-event') expect(text).to.include('Executor failed');
    });
  }
});
