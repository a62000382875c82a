// Every slug of @waygate/provider-openai-compatible end to end through the SDKs people use: for each
// preset that serves chat, the `openai` SDK's chat completion (JSON and stream) and the Anthropic
// SDK's messages.create on /v1/messages (bridged to the preset's chat), against a loopback fake
// that speaks OpenAI's wire format, with the caller's own key and a custom host (as a Portkey
// caller sends them); every preset that serves no chat answers a 400 naming what it serves.
import { expect } from 'chai';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { BadRequestError } from 'openai';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { PRESETS } from '@waygate/provider-openai-compatible';
import { FakeOpenAI } from './fakes/index.js';

const KEY = 'sk-slug-caller-0123456789';
const chatSlugs = Object.keys(PRESETS).filter((s) => PRESETS[s]!.endpoints.includes('chat.completions'));
const noChat = Object.keys(PRESETS).filter((s) => !PRESETS[s]!.endpoints.includes('chat.completions'));

describe('every OpenAI-compatible slug through the openai and Anthropic SDKs', function () {
  this.timeout(60_000);
  let fake: FakeOpenAI;
  let gw: Gateway;

  before(async () => {
    fake = await FakeOpenAI.start({ apiKey: KEY, reply: 'Hello from the preset', chunkCount: 3 });
    gw = await startGateway({ port: 0, host: '127.0.0.1', logger: createLogger({ level: 'error' }), env: {} });
  });
  after(async () => {
    await gw?.close(0);
    await fake?.close();
  });

  const headers = (slug: string) => ({ 'x-portkey-provider': slug, 'x-portkey-custom-host': fake.baseURL });

  it('has chat slugs to try (the list is read from the presets, not written here)', () => {
    expect(chatSlugs.length).to.be.greaterThan(40);
  });

  it('openai SDK: a chat completion and a streamed one for every chat slug', async () => {
    for (const slug of chatSlugs) {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, defaultHeaders: headers(slug) });
      fake.reset();
      const res = await client.chat.completions.create({ model: 'some-model', messages: [{ role: 'user', content: 'Hi' }] });
      expect(res.choices[0]!.message.content, slug).to.equal('Hello from the preset');
      expect(fake.requests.at(-1)!.path, slug).to.equal('/v1/chat/completions');
      expect(fake.requests.at(-1)!.headers.authorization, slug).to.equal(`Bearer ${KEY}`);
      let text = '';
      let finish: string | null | undefined;
      for await (const chunk of await client.chat.completions.create({ model: 'some-model', messages: [{ role: 'user', content: 'Hi' }], stream: true })) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(text, slug).to.equal('Hello from the preset');
      expect(finish, slug).to.equal('stop');
    }
  });

  it('Anthropic SDK: messages.create on /v1/messages, bridged to each chat slug’s chat completions', async () => {
    for (const slug of chatSlugs) {
      const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0, defaultHeaders: headers(slug) });
      fake.reset();
      const msg = await client.messages.create({ model: 'some-model', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
      expect(msg.type, slug).to.equal('message');
      expect(msg.content[0], slug).to.deep.include({ type: 'text', text: 'Hello from the preset' });
      expect(msg.stop_reason, slug).to.equal('end_turn');
      expect(fake.requests.at(-1)!.path, slug).to.equal('/v1/chat/completions');
      expect(fake.requests.at(-1)!.body.max_tokens ?? fake.requests.at(-1)!.body.max_completion_tokens, slug).to.equal(64);
    }
  });

  it('every slug that serves no chat answers 400 unsupported_endpoint naming what it serves, and calls nothing', async () => {
    for (const slug of noChat) {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0, defaultHeaders: headers(slug) });
      fake.reset();
      const err = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, slug).to.be.instanceOf(BadRequestError);
      expect((err as BadRequestError).code, slug).to.equal('unsupported_endpoint');
      if (PRESETS[slug]!.serves) expect((err as BadRequestError).message, slug).to.include(PRESETS[slug]!.serves!);
      expect(fake.requests, slug).to.have.length(0);
    }
  });
});
