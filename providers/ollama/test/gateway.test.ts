// The ollama adapter in a gateway, in front of a loopback fake of Ollama's native API: the custom host
// as the server's root or with the /v1 an OpenAI-compatible config had, completions and embeddings,
// the model list, NDJSON streams one byte at a time, and streams that are cut, malformed or fail.
import { expect } from 'chai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { FakeOllama } from './fake.js';

const lines = (text: string): any[] =>
  text
    .split('\n\n')
    .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
    .map((l) => JSON.parse(l.slice(6)));

describe('ollama through a gateway', function () {
  this.timeout(20_000);
  let fake: FakeOllama;
  let gw: Gateway;

  before(async () => {
    fake = await FakeOllama.start();
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
    fake.bytewise = false;
  });

  const send = (route: string, body?: Record<string, unknown>, host = fake.url, method = 'POST') =>
    fetch(`${gw.url}${route}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-portkey-provider': 'ollama', 'x-portkey-custom-host': host },
      body: body ? JSON.stringify(body) : undefined,
    });
  const hi = { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] };

  for (const suffix of ['', '/', '/v1', '/v1/']) {
    it(`a custom host ${JSON.stringify(`http://127.0.0.1:<port>${suffix}`)} reaches /api/chat`, async () => {
      const res = await send('/v1/chat/completions', hi, `${fake.url}${suffix}`);
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(json)).to.equal(200);
      expect(json.choices[0].message.content).to.equal('You said: hi');
      expect(json.usage).to.deep.equal({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
      expect(fake.seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal(['POST /api/chat']);
      expect(fake.seen[0]!.body.stream).to.equal(false);
    });
  }

  it('without a custom host: a 400 saying to set one', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-provider': 'ollama' },
      body: JSON.stringify(hi),
    });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as any).error.message).to.include('custom_host');
  });

  it('streams NDJSON delivered one byte at a time as whole OpenAI chunks', async () => {
    fake.bytewise = true;
    const res = await send('/v1/chat/completions', { ...hi, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    const text = await res.text();
    const chunks = lines(text);
    expect(chunks.flatMap((c) => c.choices.map((ch: any) => ch.delta.content ?? '')).join('')).to.equal('You said: hi');
    expect(chunks.at(-1).usage).to.deep.equal({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    expect(text.trimEnd().endsWith('data: [DONE]')).to.equal(true);
  });

  it('answers completions through /api/generate, JSON and streamed', async () => {
    const res = await send('/v1/completions', { model: 'llama3.2', prompt: 'Once', suffix: 'end', max_tokens: 9 });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0]).to.include({ text: 'You said: Once', finish_reason: 'stop' });
    expect(fake.seen[0]!.url).to.equal('/api/generate');
    expect(fake.seen[0]!.body).to.deep.equal({ model: 'llama3.2', prompt: 'Once', suffix: 'end', options: { num_predict: 9 }, stream: false });
    const streamed = await (await send('/v1/completions', { model: 'llama3.2', prompt: 'Once', stream: true })).text();
    expect(
      lines(streamed)
        .flatMap((c) => c.choices.map((ch: any) => ch.text))
        .join(''),
    ).to.equal('You said: Once');
    expect(lines(streamed).every((c) => c.object === 'text_completion')).to.equal(true);
  });

  it('answers embeddings through /api/embed, floats and base64', async () => {
    const floats = (await (await send('/v1/embeddings', { model: 'all-minilm', input: ['hello', 'hi'], encoding_format: 'float' })).json()) as any;
    expect(floats.data.map((d: any) => d.embedding)).to.deep.equal([
      [5, 0, 1],
      [2, 1, 1],
    ]);
    expect(floats.usage).to.deep.equal({ prompt_tokens: 2, total_tokens: 2 });
    const b64 = (await (await send('/v1/embeddings', { model: 'all-minilm', input: 'hello' })).json()) as any;
    expect(typeof b64.data[0].embedding).to.equal('object');
    const enc = (await (await send('/v1/embeddings', { model: 'all-minilm', input: 'hello', encoding_format: 'base64' })).json()) as any;
    expect(Buffer.from(enc.data[0].embedding, 'base64').readFloatLE(0)).to.equal(5);
  });

  it('lists the pulled models from /api/tags', async () => {
    const res = await send('/v1/models', undefined, fake.url, 'GET');
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.data.map((m: any) => m.id)).to.deep.equal(['llama3.2:latest', 'all-minilm:latest']);
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal(['GET /api/tags']);
  });

  it("a model the server lacks: Ollama's 404 and its message", async () => {
    const res = await send('/v1/chat/completions', { ...hi, model: 'llama9' });
    const json = (await res.json()) as any;
    expect(res.status).to.equal(404);
    expect(json.error.message).to.equal('ollama: model "llama9" not found, try pulling it first');
  });

  for (const fault of ['cut', 'not-json', 'error-line'] as const) {
    it(`a stream that is ${fault} after content ends with a terminal error event, not [DONE]`, async () => {
      fake.fault = fault;
      const res = await send('/v1/chat/completions', { ...hi, stream: true });
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(text).to.include('"content":"You"');
      expect(text).to.include('"error"');
      expect(text).to.not.include('[DONE]');
      if (fault === 'error-line') expect(text).to.include('unexpected EOF');
    });
  }
});
