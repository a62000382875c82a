// The echo provider end to end: a gateway with the echo plugin, driven by the `openai` SDK and by
// plain HTTP, with no key and no upstream but the plugin's own loopback server.
import { expect } from 'chai';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { chatCompletion, echoReply, embeddings } from '../src/answers.js';

describe('echo provider', () => {
  let gw: Gateway;
  let client: OpenAI;
  before(async () => {
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', '@waygate/anthropic-messages', new URL('../src/index.js', import.meta.url).href] },
      port: 0,
      logger: silent,
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', defaultHeaders: { 'x-waygate-provider': 'echo' }, maxRetries: 0 });
  });
  after(() => gw?.close(0));

  it('answers a chat completion deterministically, with usage, with no key', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-provider': 'echo' },
      body: JSON.stringify({ model: 'echo-1', messages: [{ role: 'user', content: 'Hello there' }] }),
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].message.content).to.equal('echo: Hello there');
    expect(json.usage).to.deep.include({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    const again = await client.chat.completions.create({ model: 'echo-1', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(again.id).to.equal(json.id);
  });

  it('streams the same answer word by word, with usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'echo-1',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: any;
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).to.equal('echo: one two three');
    expect(chunks).to.be.greaterThan(4);
    expect(usage).to.deep.include({ prompt_tokens: 3, completion_tokens: 4 });
  });

  it('cuts the reply at max_tokens with finish_reason length', async () => {
    const r = await client.chat.completions.create({ model: 'echo-1', max_tokens: 2, messages: [{ role: 'user', content: 'a b c d' }] });
    expect(r.choices[0]!.message.content).to.equal('echo: a');
    expect(r.choices[0]!.finish_reason).to.equal('length');
  });

  it('answers /v1/messages in Anthropic shape through the chat bridge', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-provider': 'echo', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'echo-1', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.type).to.equal('message');
    expect(json.content[0].text).to.equal('echo: hi');
  });

  it('answers embeddings deterministically, floats and base64', async () => {
    const a = await client.embeddings.create({ model: 'echo-1', input: ['x', 'y'], encoding_format: 'float' });
    const b = await client.embeddings.create({ model: 'echo-1', input: ['x', 'y'] });
    expect(a.data).to.have.length(2);
    expect(a.data[0]!.embedding).to.have.length(8);
    expect(a.data[0]!.embedding).to.not.deep.equal(a.data[1]!.embedding);
    expect(Array.from(b.data[0]!.embedding).map((n) => Math.round(n * 1000) / 1000)).to.deep.equal(a.data[0]!.embedding);
  });

  it('lists its model', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).to.include('echo-1');
  });

  it('refuses a request without messages with a clear 400', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-provider': 'echo' },
      body: JSON.stringify({ model: 'echo-1', messages: [] }),
    });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as any).error.message).to.match(/messages/);
  });

  it('computes answers from the request alone', () => {
    expect(
      echoReply({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'text', text: 'b' },
            ],
          },
        ],
      }).reply,
    ).to.equal('echo: a b');
    expect(chatCompletion({ model: 'm', messages: [{ role: 'user', content: 'q' }] })).to.deep.equal(
      chatCompletion({ model: 'm', messages: [{ role: 'user', content: 'q' }] }),
    );
    expect(() => embeddings({ input: [1] })).to.throw(/input/);
  });
});
