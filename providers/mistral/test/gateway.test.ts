// The package in a running gateway (loaded by its path) in front of a loopback Mistral API
// (./fake.ts), which refuses unknown fields as Mistral does: completions as FIM both ways, chat with
// OpenAI's newer field names, OCR through passthrough, Mistral's 401 and 422.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, parseSSE, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeMistral } from './fake.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const KEY = 'mistral-test-key-0123456789';

describe('@waygate/provider-mistral in a running gateway', function () {
  this.timeout(20_000);
  let fake: FakeMistral;
  let gw: Gateway;

  before(async () => {
    fake = await FakeMistral.start(KEY);
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', THIS_PACKAGE] },
      port: 0,
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const config = (key = KEY) => JSON.stringify({ provider: 'mistral-ai', api_key: key, custom_host: `${fake.url}/v1` });
  const post = (route: string, body: Record<string, unknown>, key = KEY) =>
    fetch(`${gw.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': config(key) },
      body: JSON.stringify(body),
    });

  it('answers an OpenAI completion with a suffix from /v1/fim/completions, as a text_completion', async () => {
    const res = await post('/v1/completions', {
      model: 'codestral-latest',
      prompt: 'def add(a, b):',
      suffix: 'print(add(1, 2))',
      max_tokens: 16,
      user: 'u-1',
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.object).to.equal('text_completion');
    expect(json.choices[0]).to.deep.equal({ index: 0, text: '/* 14 chars before, 16 after */', logprobs: null, finish_reason: 'stop' });
    expect(json.usage).to.deep.equal({ prompt_tokens: 11, completion_tokens: 6, total_tokens: 17 });
    expect(fake.hits[0]!.url).to.equal('/v1/fim/completions');
    expect(fake.hits[0]!.body).to.deep.equal({ model: 'codestral-latest', prompt: 'def add(a, b):', suffix: 'print(add(1, 2))', max_tokens: 16 });
  });

  it('streams a FIM completion as text_completion chunks ending with [DONE]', async () => {
    const res = await post('/v1/completions', { model: 'codestral-latest', prompt: 'x = ', stream: true });
    expect(res.status).to.equal(200);
    const events: string[] = [];
    for await (const ev of parseSSE(
      (async function* () {
        yield await res.text();
      })(),
    ))
      events.push(ev.data);
    expect(events.at(-1)).to.equal('[DONE]');
    const chunks = events.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.every((c) => c.object === 'text_completion')).to.equal(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).to.equal('/* 4 chars before, 0 after */');
    expect(chunks.at(-1).usage).to.deep.equal({ prompt_tokens: 11, completion_tokens: 6, total_tokens: 17 });
  });

  it('sends chat with max_completion_tokens and seed in Mistral’s names (it refuses the others)', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'mistral-small-latest',
      messages: [{ role: 'user', content: 'Salut' }],
      max_completion_tokens: 5,
      seed: 1,
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].message.content).to.equal('Bonjour !');
    expect(fake.hits[0]!.body).to.deep.include({ max_tokens: 5, random_seed: 1 });
  });

  it('reaches OCR through passthrough: POST /v1/ocr forwarded with the key, pages[].markdown answered as Mistral sent it', async () => {
    const res = await post('/v1/ocr', {
      model: 'mistral-ocr-latest',
      document: { type: 'document_url', document_url: 'https://arxiv.org/pdf/1706.03762' },
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.pages[0].markdown).to.equal('# OCR of https://arxiv.org/pdf/1706.03762');
    expect(json.usage_info.pages_processed).to.equal(1);
    expect(fake.hits[0]).to.deep.include({ method: 'POST', url: '/v1/ocr' });
    expect(fake.hits[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
  });

  it("relays Mistral's 401 and 422 with their messages", async () => {
    const denied = await post('/v1/completions', { model: 'codestral-latest', prompt: 'x' }, 'wrong-key-000000');
    expect(denied.status).to.equal(401);
    expect(((await denied.json()) as any).error.message).to.equal('mistral-ai: Unauthorized');
    const extra = await post('/v1/chat/completions', { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'x' }], store: false });
    expect(extra.status).to.equal(422);
    expect(((await extra.json()) as any).error.message).to.equal('mistral-ai: body.store: Extra inputs are not permitted');
  });
});
