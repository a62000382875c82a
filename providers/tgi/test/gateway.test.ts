// The package in a running gateway (loaded by its path, as a config names it) in front of a loopback
// TGI server (./fake.ts): completions both ways, the key, TGI's validation errors, error events
// before and after the first content, a cut stream, and TGI's other routes forwarded.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, parseSSE, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeTgi } from './fake.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const KEY = 'hf_tgi-test-key-0123456789';

async function sse(text: string): Promise<any[]> {
  const out: any[] = [];
  for await (const ev of parseSSE(
    (async function* () {
      yield text;
    })(),
  ))
    out.push(ev.data === '[DONE]' ? '[DONE]' : JSON.parse(ev.data));
  return out;
}

describe('@waygate/provider-tgi in a running gateway', function () {
  this.timeout(20_000);
  let fake: FakeTgi;
  let gw: Gateway;

  before(async () => {
    fake = await FakeTgi.start(KEY);
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

  const post = (route: string, body: Record<string, unknown>, key = KEY) =>
    fetch(`${gw.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'tgi', api_key: key, custom_host: fake.url }) },
      body: JSON.stringify(body),
    });

  it('answers a completion from /generate, cut at max_tokens', async () => {
    const res = await post('/v1/completions', { model: 'tgi', prompt: 'one two three four', max_tokens: 2, temperature: 0 });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.object).to.equal('text_completion');
    expect(json.choices[0]).to.include({ text: 'one two', finish_reason: 'length' });
    // The prompt's count from TGI's x-prompt-tokens header (its body has none).
    expect(json.usage).to.deep.equal({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    expect(fake.hits[0]).to.deep.include({ url: '/generate' });
    expect(fake.hits[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
    expect(fake.hits[0]!.body).to.deep.equal({ inputs: 'one two three four', parameters: { max_new_tokens: 2, do_sample: false, details: true } });
  });

  it('streams a completion from /generate_stream, ending with [DONE] and the usage asked for', async () => {
    const res = await post('/v1/completions', { model: 'tgi', prompt: 'alpha beta', stream: true, stream_options: { include_usage: true } });
    expect(res.status).to.equal(200);
    const out = await sse(await res.text());
    expect(out.at(-1)).to.equal('[DONE]');
    expect(
      out
        .slice(0, -1)
        .map((c) => c.choices[0]?.text ?? '')
        .join(''),
    ).to.equal('alpha beta');
    expect(out.at(-3).choices[0].finish_reason).to.equal('stop');
    expect(out.at(-2).usage).to.deep.equal({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    expect(fake.hits[0]!.url).to.equal('/generate_stream');
  });

  it("relays TGI's 401 and 422 with their messages, not retryable", async () => {
    const denied = await post('/v1/chat/completions', { model: 'tgi', messages: [{ role: 'user', content: 'hi' }] }, 'wrong-key-000000');
    expect(denied.status).to.equal(401);
    expect(((await denied.json()) as any).error.message).to.include('Unauthorized');
    const invalid = await post('/v1/chat/completions', { model: 'tgi', messages: [{ role: 'user', content: 'hi' }], parameters: { temperature: -1 } });
    expect(invalid.status).to.equal(422);
    expect(((await invalid.json()) as any).error.message).to.include('`temperature` must be strictly positive');
    const streamed = await post('/v1/chat/completions', {
      model: 'tgi',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      parameters: { top_p: 2 },
    });
    expect(streamed.status).to.equal(422);
  });

  it('ends a stream cut before its last event with a terminal error event', async () => {
    fake.cutAfter = 2;
    const res = await post('/v1/chat/completions', { model: 'tgi', messages: [{ role: 'user', content: 'a b c d' }], stream: true });
    expect(res.status).to.equal(200);
    const out = await sse(await res.text());
    expect(out.at(-1)).to.have.property('error');
    expect(out.flatMap((c) => (c.choices ?? []).map((ch: any) => ch.delta?.content ?? '')).join('')).to.equal('a b');
  });

  it("forwards TGI's other routes (GET /v1/info → /info) with the key", async () => {
    const res = await fetch(`${gw.url}/v1/info`, {
      headers: { 'x-waygate-config': JSON.stringify({ provider: 'tgi', api_key: KEY, custom_host: fake.url }) },
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.model_id).to.equal('mistralai/Mistral-7B-Instruct-v0.3');
    expect(fake.hits[0]).to.deep.include({ method: 'GET', url: '/info' });
  });
});
