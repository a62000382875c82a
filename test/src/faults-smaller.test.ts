// Fault suite, the smaller ones (issue 11, item 9), with loopback upstreams: a malformed event in the
// middle of a stream ends it with a terminal error event; an invalid config is answered with every
// problem it has, each with its path; and float embeddings answered to a request for base64 (the
// `openai` SDK's default) reach the SDK as the numbers they were.
import { expect } from 'chai';
import http from 'node:http';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { readSSE } from './helpers/api-support.js';
import { ScriptedUpstream } from './helpers/scripted-upstream.js';

const KEY = 'sk-smaller-faults-key';
const MESSAGES = [{ role: 'user', content: 'hi' }];
const VECTORS = [
  [0.5, -0.25, 1.125, 3],
  [-1, 0.0625, 2.5, -0.75],
];

/** An OpenAI-compatible upstream: streams with a malformed event in the middle, and float embeddings whatever the encoding asked for. */
class SloppyUpstream extends ScriptedUpstream {
  readonly bodies: Array<Record<string, unknown>> = [];

  protected answer(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const body = JSON.parse(raw) as { input?: string[] };
    this.bodies.push(body);
    if (req.url!.endsWith('/embeddings')) {
      const data = (body.input ?? []).map((_, index) => ({ object: 'embedding', index, embedding: VECTORS[index] }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data, model: 'local-embed', usage: { prompt_tokens: 2, total_tokens: 2 } }));
      return;
    }
    const chunk = (delta: Record<string, unknown>) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(
      chunk({ role: 'assistant', content: '' }) +
        chunk({ content: 'Hel' }) +
        'data: {"id":"c1","choices":[{"delta":{"content":"lo"}\n\n' + // cut short: not JSON
        chunk({ content: ' there' }) +
        'data: [DONE]\n\n',
    );
  }
}

describe('faults: the smaller ones', function () {
  this.timeout(20_000);
  let up: SloppyUpstream;
  let gw: Gateway;

  before(async () => {
    up = await new SloppyUpstream().start();
    gw = await startGateway({
      config: {
        log: { level: 'silent' },
        plugins: [{ module: '@waygate/provider-openai-compatible', options: { presets: { local: { base_url: up.url } } } }],
      },
      port: 0,
      host: '127.0.0.1',
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  describe('a malformed event in the middle of a stream', () => {
    for (const provider of ['openai', 'azure-openai'] as const) {
      it(`ends the stream with a terminal error event, and nothing after it is relayed (${provider})`, async () => {
        const route: Record<string, string> =
          provider === 'openai'
            ? { 'x-waygate-provider': 'openai', 'x-waygate-custom-host': up.url, authorization: `Bearer ${KEY}` }
            : {
                'x-waygate-config': JSON.stringify({
                  provider: 'azure-openai',
                  custom_host: up.url,
                  api_key: KEY,
                  deployment_id: 'd',
                  api_version: '2024-10-21',
                }),
              };
        const res = await post('/v1/chat/completions', { model: 'm', messages: MESSAGES, stream: true }, route);
        expect(res.status).to.equal(200);
        const sse = await readSSE(res);
        expect(sse.error, 'the stream ended properly, with its terminal event').to.equal(undefined);
        expect(sse.data.some((d) => d.includes('"content":"Hel"'))).to.equal(true);
        expect(sse.text, 'the malformed event is not relayed').to.not.include('"content":"lo"}');
        expect(sse.text, 'nothing after it').to.not.include(' there');
        expect(sse.data).to.not.include('[DONE]');
        const last = JSON.parse(sse.data[sse.data.length - 1]!) as { error: { message: string; code: string } };
        expect(last.error.code).to.equal('stream_interrupted');
        expect(last.error.message).to.match(/not valid JSON/);
      });
    }
  });

  describe('an invalid config', () => {
    const chat = (config: unknown) =>
      post('/v1/chat/completions', { model: 'm', messages: MESSAGES }, { 'x-waygate-config': JSON.stringify(config), authorization: `Bearer ${KEY}` });

    it('in a header, with three schema problems: all three are listed, each with its path', async () => {
      const res = await chat({
        targets: [
          { provider: 'openai', retry: { attempts: -1 } },
          { provider: 'openai', weight: 'heavy' },
        ],
      });
      const body = (await res.json()) as { error: { message: string; code: string; param: string } };
      expect(res.status).to.equal(400);
      expect(body.error.code).to.equal('invalid_config');
      // A node with "targets" and no "strategy" is reported with the others, not only once they are fixed.
      expect(body.error.message).to.include('config.strategy: a node with "targets" needs a "strategy"');
      expect(body.error.message).to.include('config.targets[0].retry.attempts:');
      expect(body.error.message).to.include('config.targets[1].weight:');
      expect(body.error.param).to.equal('config.targets[0].retry.attempts');
    });

    it('in a header, with three problems against what loaded: all three are listed, each with its path', async () => {
      const res = await chat({
        strategy: { mode: 'fallback' },
        targets: [{ provider: 'nope' }, { strategy: { mode: 'round-robin' }, targets: [{ provider: 'openai' }] }, { provider: 'nada' }],
      });
      const body = (await res.json()) as { error: { message: string; code: string; param: string } };
      expect(res.status).to.equal(400);
      expect(body.error.code).to.equal('invalid_config');
      expect(body.error.message).to.match(/config\.targets\[0\]\.provider: unknown provider "nope"/);
      expect(body.error.message).to.match(/config\.targets\[1\]\.strategy\.mode "round-robin": no loaded plugin handles/);
      expect(body.error.message).to.match(/config\.targets\[2\]\.provider: unknown provider "nada"/);
      expect(body.error.param).to.equal('config.targets[0].provider');
    });

    it('in the config file: start-up fails listing every problem with its path', async () => {
      const file = (routing: unknown) => startGateway({ config: { log: { level: 'silent' }, routing }, port: 0, host: '127.0.0.1' });
      const schema = await file({ targets: [{ provider: 'openai' }], retry: { attempts: 'x' }, request_timeout: -1 }).then(
        () => 'started',
        (err: Error) => err.message,
      );
      expect(schema).to.include('routing.strategy:').and.include('routing.retry.attempts:').and.include('routing.request_timeout:');
      const loaded = await file({
        strategy: { mode: 'fallback' },
        targets: [{ provider: 'nope' }, { provider: 'nada' }, { provider: 'openai', custom_host: 'ftp://x' }],
      }).then(
        () => 'started',
        (err: Error) => err.message,
      );
      expect(loaded).to.match(/routing\.targets\[0\]\.provider: unknown provider "nope"/);
      expect(loaded).to.match(/routing\.targets\[1\]\.provider: unknown provider "nada"/);
      expect(loaded).to.match(/routing\.targets\[2\]\.custom_host: custom host "ftp:\/\/x" is not allowed/);
    });
  });

  describe('base64 embeddings', () => {
    it('the openai SDK (base64 by default) gets the vectors an OpenAI-compatible upstream answered as floats', async () => {
      const client = new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/v1`, defaultHeaders: { 'x-waygate-provider': 'local' }, maxRetries: 0 });
      const res = await client.embeddings.create({ model: 'local-embed', input: ['a', 'b'] });
      expect(up.bodies[up.bodies.length - 1]).to.include({ encoding_format: 'base64' });
      expect(res.data.map((d) => Array.from(d.embedding))).to.deep.equal(VECTORS);
      expect(res.usage).to.deep.equal({ prompt_tokens: 2, total_tokens: 2 });
      // Asked for floats, floats come back as they were.
      const floats = await client.embeddings.create({ model: 'local-embed', input: ['a'], encoding_format: 'float' });
      expect(floats.data[0]!.embedding).to.deep.equal(VECTORS[0]);
    });
  });
});
