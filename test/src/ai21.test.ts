// AI21 end to end: the default gateway (the bundled plugins, @waygate/provider-ai21 among them)
// driven by the `openai` SDK in Portkey's header dialect (`x-portkey-provider: ai21`), in front of a
// loopback fake that answers AI21 Studio's Jamba chat (JSON and SSE) and Jurassic-2 complete.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, portkeyClient, readChatStream } from './helpers/portkey-e2e.js';

const KEY = 'ai21-e2e-test-key-00112233';

describe('AI21 end to end: OpenAI SDK → gateway (Portkey headers) → fake AI21 Studio', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: Array<{ line: string; body: any }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const json = JSON.parse(body);
        seen.push({ line: `${req.method} ${req.url} ${req.headers.authorization}`, body: json });
        if (req.url?.endsWith('/complete')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'c1',
              prompt: { text: json.prompt, tokens: [{}] },
              completions: [{ data: { text: ' a box of chocolates', tokens: [{}, {}] }, finishReason: { reason: 'endoftext' } }],
            }),
          );
          return;
        }
        if (json.stream) {
          const chunk = (delta: object, finish: string | null, usage: object | null = null) =>
            `data: ${JSON.stringify({ id: 'chat-1', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage })}\n\n`;
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(
            chunk({ role: 'assistant' }, null) +
              chunk({ content: 'Hello' }, null) +
              chunk({ content: ' from AI21' }, 'stop', { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }) +
              'data: [DONE]\n\n',
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chat-1',
            model: 'jamba-mini',
            choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from AI21', tool_calls: null }, logprobs: null, finish_reason: 'stop' }],
            usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/studio/v1`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = () => portkeyClient(gw, KEY, 'ai21', base);

  it('the bundled ai21 slug answers a Jamba chat completion', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'jamba-mini', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 20, presence_penalty: 1 })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('ai21');
    expect(data.choices[0]!.message.content).to.equal('Hello from AI21');
    expect(data.usage).to.include({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    expect(seen.map((s) => s.line)).to.deep.equal([`POST /studio/v1/chat/completions Bearer ${KEY}`]);
    expect(seen[0]!.body).to.deep.equal({ model: 'jamba-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 });
  });

  it('streams through the SDK, usage last when asked for', async () => {
    const stream = await client().chat.completions.create({
      model: 'jamba-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, finish, usage } = await readChatStream(stream);
    expect(text).to.equal('Hello from AI21');
    expect(finish).to.equal('stop');
    expect(usage).to.deep.include({ prompt_tokens: 5, completion_tokens: 3 });
    expect(seen[0]!.body.stream).to.equal(true);
  });

  it('completions reach Jurassic-2’s /{model}/complete', async () => {
    const out = await client().completions.create({ model: 'j2-ultra', prompt: 'Life is like', max_tokens: 8 });
    expect(out.choices[0]!.text).to.equal(' a box of chocolates');
    expect(out.choices[0]!.finish_reason).to.equal('stop');
    expect(seen[0]!.line).to.equal(`POST /studio/v1/j2-ultra/complete Bearer ${KEY}`);
  });
});
