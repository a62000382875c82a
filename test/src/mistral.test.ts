// Mistral end to end: the default gateway (the bundled plugins, @waygate/provider-mistral among them,
// which owns the mistral-ai slug now) driven by the `openai` SDK in Portkey's header dialect, in front
// of a loopback fake of Mistral's API: a completion with a suffix as Codestral FIM, chat as FIM under
// Portkey's x-portkey-mistral-fim-completion header, and OCR through the passthrough.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake } from './helpers/portkey-e2e.js';

const KEY = 'mistral-e2e-key-00112233';

describe('Mistral end to end: OpenAI SDK → gateway (Portkey headers) → fake Mistral', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: Array<{ url: string; auth?: string; body: any }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text || '{}');
        seen.push({ url: req.url ?? '', auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url === '/v1/ocr') {
          res.end(
            JSON.stringify({
              pages: [{ index: 0, markdown: '# Invoice 42', images: [], dimensions: { dpi: 200, height: 2200, width: 1700 } }],
              model: 'mistral-ocr-2505-completion',
              document_annotation: null,
              usage_info: { pages_processed: 1, doc_size_bytes: 2048 },
            }),
          );
          return;
        }
        res.end(
          JSON.stringify({
            id: 'fim-1',
            object: 'chat.completion',
            model: body.model,
            created: 1759496862,
            usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
            choices: [{ index: 0, message: { role: 'assistant', content: 'return a + b', tool_calls: null, prefix: false }, finish_reason: 'stop' }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = (headers: Record<string, string> = {}) =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: KEY,
      maxRetries: 0,
      defaultHeaders: { 'x-portkey-provider': 'mistral-ai', 'x-portkey-custom-host': base, ...headers },
    });

  it('a completion with a suffix is Codestral fill-in-the-middle', async () => {
    const data = await client().completions.create({ model: 'codestral-latest', prompt: 'def add(a, b):\n    ', suffix: '\n\nprint(add(1, 2))' });
    expect(data.object).to.equal('text_completion');
    expect(data.choices[0]!.text).to.equal('return a + b');
    expect(data.usage).to.include({ prompt_tokens: 9, completion_tokens: 4 });
    expect(seen).to.deep.equal([
      {
        url: '/v1/fim/completions',
        auth: `Bearer ${KEY}`,
        body: { model: 'codestral-latest', prompt: 'def add(a, b):\n    ', suffix: '\n\nprint(add(1, 2))' },
      },
    ]);
  });

  it('chat goes to FIM under x-portkey-mistral-fim-completion, answered in chat shape', async () => {
    const data = await client({ 'x-portkey-mistral-fim-completion': 'true' }).chat.completions.create({
      model: 'codestral-latest',
      messages: [{ role: 'user', content: 'def add(a, b):\n    ' }],
    });
    expect(data.choices[0]!.message.content).to.equal('return a + b');
    expect(seen[0]!.url).to.equal('/v1/fim/completions');
    expect(seen[0]!.body.prompt).to.equal('def add(a, b):\n    ');
  });

  it('OCR through the passthrough: POST /v1/ocr as Mistral takes it', async () => {
    const ocr = (await client().post('/ocr', {
      body: { model: 'mistral-ocr-latest', document: { type: 'image_url', image_url: 'https://example.com/invoice.png' } },
    })) as { pages: Array<{ markdown: string }> };
    expect(ocr.pages[0]!.markdown).to.equal('# Invoice 42');
    expect(seen[0]).to.deep.include({ url: '/v1/ocr', auth: `Bearer ${KEY}` });
  });
});
