// The Responses API through libraries built on it: the Vercel AI SDK (`openai('model')` speaks
// Responses) and the OpenAI Agents SDK, against the bridged Anthropic-format fake.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { generateText, streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, OpenAIProvider, Runner, setTracingDisabled } from '@openai/agents';
import OpenAI from 'openai';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { Fake, anthropicReply } from './helpers/responses-support.js';

describe('/v1/responses through the Vercel AI SDK and the OpenAI Agents SDK (bridged to Anthropic)', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let ant: Fake;
  const headers = () => ({ 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': `${ant.url}/v1` });

  before(async () => {
    setTracingDisabled(true);
    ant = await new Fake().start();
    ant.reply = anthropicReply;
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    gw = await startGateway({
      config: { plugins: [{ module: '@waygate/responses-api', options: { store: { path: ':memory:' } } }] },
      port: 0,
      logger: createLogger({ level: 'error', destination: quiet }),
      env: {},
    });
  });
  after(async () => {
    await gw?.close(0);
    await ant?.close();
  });
  beforeEach(() => {
    ant.seen.length = 0;
  });

  const aiOpenAI = () => createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', headers: headers() });

  it('generateText', async () => {
    const r = await generateText({ model: aiOpenAI()('claude-x'), prompt: 'Hi' });
    expect(ant.seen[0]!.path).to.equal('/v1/messages');
    expect(r.text).to.equal('Hello from Claude.');
    expect(r.usage.outputTokens).to.equal(3);
  });

  it('streamText', async () => {
    const r = streamText({ model: aiOpenAI()('claude-x'), prompt: 'Hi' });
    let text = '';
    for await (const t of r.textStream) text += t;
    expect(text).to.equal('Hello from Claude.');
    expect(await r.finishReason).to.equal('stop');
  });

  it('an Agents SDK run', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: headers() });
    const runner = new Runner({
      // The Agents SDK pins its own copy of `openai`: the same client class, another declaration.
      modelProvider: new OpenAIProvider({ openAIClient: client as never, useResponses: true }),
      tracingDisabled: true,
    });
    const agent = new Agent({ name: 'helper', instructions: 'Be brief.', model: 'claude-x' });
    const result = await runner.run(agent, 'Hi');
    expect(result.finalOutput).to.equal('Hello from Claude.');
    expect(JSON.stringify(ant.seen[0]!.body.system)).to.contain('Be brief.');
  });
});
