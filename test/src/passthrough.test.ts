// The provider-native passthrough end to end (issue 13, item 4): /v1/passthrough/{provider}/{path}
// forwarded to that provider's API root with its own credentials, with the Anthropic and OpenAI SDKs
// pointed at the prefix, against loopback fakes speaking each provider's documented wire format
// (Anthropic's Message Batches and streamed Messages, OpenAI's models and file contents, Gemini's
// countTokens, Cohere's rerank). Keys' rules, path escapes, the egress policy and the log line too.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received, Reply } from './fakes/provider-upstreams.js';
import { LogCapture, expectGatewayError, readSSE } from './helpers/api-support.js';

const HELD = {
  anthropic: 'sk-ant-held-0123456789',
  openai: 'sk-openai-held-0123456789',
  google: 'AIza-held-0123456789',
  cohere: 'co-held-0123456789',
};
const GATEWAY_KEY = 'wg-passthrough-gateway-key-0123';
const OPENAI_ONLY_KEY = 'wg-passthrough-openai-only-0123';
const CHAT_ONLY_KEY = 'wg-passthrough-chat-only-012345';
const BINARY = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x0d, 0x0a, 0x7f, 0xfe, 0x00, 0x01, 0xc3, 0x28]);

const BATCH_REQUEST = {
  requests: [
    { custom_id: 'first', params: { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hello, world' }] } },
    { custom_id: 'second', params: { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi again' }] } },
  ],
};

/** Anthropic's documented Message Batch object, as the create call answers it. */
const batchObject = (count: number) => ({
  id: 'msgbatch_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message_batch',
  processing_status: 'in_progress',
  request_counts: { processing: count, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
  ended_at: null,
  created_at: '2024-09-24T18:37:24.100435Z',
  expires_at: '2024-09-25T18:37:24.100435Z',
  archived_at: null,
  cancel_initiated_at: null,
  results_url: null,
});

/** A streamed Message in Anthropic's documented event sequence, as the SSE text the API writes. */
const STREAM_EVENTS: Array<[string, unknown]> = [
  [
    'message_start',
    {
      type: 'message_start',
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1 },
      },
    },
  ],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ['ping', { type: 'ping' }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ', wörld' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }],
  ['message_stop', { type: 'message_stop' }],
];
const STREAM_TEXT = STREAM_EVENTS.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('');

const anthropicError = (status: number, type: string, message: string): Reply => ({ status, json: { type: 'error', error: { type, message } } });

/** Anthropic's API: the Message Batches create call, streamed Messages, and its error shape for a missing key. */
function anthropicAPI(req: Received): Reply {
  if (typeof req.headers['x-api-key'] !== 'string') return anthropicError(401, 'authentication_error', 'x-api-key header is required');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(String(req.headers['anthropic-version'] ?? ''))) {
    return anthropicError(400, 'invalid_request_error', 'anthropic-version header is required');
  }
  if (req.method === 'POST' && req.pathname === '/v1/messages/batches') return { json: batchObject(req.body?.requests?.length ?? 0) };
  if (req.method === 'POST' && req.pathname === '/v1/messages' && req.body?.stream === true) return { stream: [STREAM_TEXT], chunkBytes: 1 };
  if (req.method === 'GET' && req.pathname === '/v1/messages/batches/msgbatch_013Zva2CMHLNnXjNJJKqJ2EF/results') {
    return { headers: { 'content-type': 'application/binary' }, stream: ['{"custom_id":"first","result":{"type":"succeeded"}}\n'] };
  }
  return anthropicError(404, 'not_found_error', `Not found: ${req.method} ${req.pathname}`);
}

/** OpenAI's API: the model list (with its query), a file's contents as bytes, and its error shape. */
function openaiAPI(req: Received): Reply {
  if (!String(req.headers.authorization ?? '').startsWith('Bearer ')) {
    return { status: 401, json: { error: { message: 'You didn’t provide an API key.', type: 'invalid_request_error', param: null, code: null } } };
  }
  if (req.method === 'GET' && req.pathname === '/v1/models') {
    const data = [
      { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' },
      { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
    ];
    return { json: { object: 'list', data: data.slice(0, Number(req.query.get('limit') ?? data.length)) } };
  }
  if (req.method === 'GET' && req.pathname === '/v1/files/file-abc123/content') {
    return { headers: { 'content-type': 'application/octet-stream' }, stream: [BINARY] };
  }
  if (req.method === 'DELETE' && req.pathname === '/v1/vector_stores/vs_1') return { json: { id: 'vs_1', object: 'vector_store.deleted', deleted: true } };
  return {
    status: 404,
    json: { error: { message: `Unknown request URL: ${req.method} ${req.pathname}`, type: 'invalid_request_error', param: null, code: null } },
  };
}

/** The Gemini API's countTokens, keyed by x-goog-api-key. */
function googleAPI(req: Received): Reply {
  if (req.headers['x-goog-api-key'] !== HELD.google) {
    return { status: 403, json: { error: { code: 403, message: 'Method doesn\u2019t allow unregistered callers.', status: 'PERMISSION_DENIED' } } };
  }
  if (req.method === 'POST' && req.pathname === '/v1beta/models/gemini-2.0-flash:countTokens')
    return { json: { totalTokens: 31, promptTokensDetails: [] } };
  return { status: 404, json: { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } } };
}

/** Cohere's v2 rerank, keyed by a bearer token. */
function cohereAPI(req: Received): Reply {
  if (req.headers.authorization !== `Bearer ${HELD.cohere}`) return { status: 401, json: { message: 'invalid api token' } };
  if (req.method === 'POST' && req.pathname === '/v2/rerank') {
    return {
      json: { id: 'rr-1', results: [{ index: 1, relevance_score: 0.9 }], meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } } },
    };
  }
  return { status: 404, json: { message: 'not found' } };
}

/** A request with its path exactly as given (fetch would resolve `..` and `%2e%2e` before sending). */
function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha = (key: string) => createHash('sha256').update(key).digest('hex');
/** Every header value a fake received, joined: what a leaked key would show up in. */
const allHeaders = (req: Received) => JSON.stringify(req.headers);

describe('passthrough: /v1/passthrough/{provider}/{path} to the provider’s own API', function () {
  const fakes = {} as Record<keyof typeof HELD, FakeUpstream>;
  let gw: Gateway;
  let logs: LogCapture;
  const sent = () => Object.values(fakes).reduce((n, f) => n + f.requests.length, 0);

  before(async () => {
    fakes.anthropic = await FakeUpstream.start(anthropicAPI);
    fakes.openai = await FakeUpstream.start(openaiAPI);
    fakes.google = await FakeUpstream.start(googleAPI);
    fakes.cohere = await FakeUpstream.start(cohereAPI);
    logs = new LogCapture('info');
    gw = await startGateway({
      config: {
        providers: {
          anthropic: { api_key: HELD.anthropic, base_url: `${fakes.anthropic.url}/v1` },
          openai: { api_key: HELD.openai, base_url: `${fakes.openai.url}/v1` },
          google: { api_key: HELD.google, base_url: `${fakes.google.url}/v1beta` },
          cohere: { api_key: HELD.cohere, base_url: `${fakes.cohere.url}/v2` },
        },
      },
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
      env: {},
    });
  });
  after(async () => {
    await gw?.close(0);
    for (const f of Object.values(fakes)) await f.close();
  });
  beforeEach(() => Object.values(fakes).forEach((f) => f.reset()));

  describe('Anthropic', () => {
    it('POST …/anthropic/v1/messages/batches reaches Anthropic’s path with the config’s x-api-key and anthropic-version, the body’s bytes as sent', async () => {
      const body = JSON.stringify(BATCH_REQUEST, null, 1); // not the gateway's own serialization: the bytes must survive
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-beta': 'message-batches-2024-09-24', 'x-waygate-trace-id': 'trace-pt-1' },
        body,
      });
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(await res.json()).to.deep.equal(batchObject(2));
      expect(res.headers.get('x-waygate-provider')).to.equal('anthropic');
      const got = fakes.anthropic.requests[0]!;
      expect(fakes.anthropic.requests).to.have.length(1);
      expect(`${got.method} ${got.url}`).to.equal('POST /v1/messages/batches');
      expect(got.headers['x-api-key']).to.equal(HELD.anthropic);
      expect(got.headers['anthropic-version']).to.equal('2023-06-01');
      expect(got.headers['anthropic-beta'], 'the client’s own headers go along').to.equal('message-batches-2024-09-24');
      expect(got.raw.toString('utf8')).to.equal(body);
      expect(got.headers, 'gateway headers stay at the gateway').to.not.have.any.keys('x-waygate-trace-id', 'authorization');
    });

    it('with the Anthropic SDK pointed at the prefix: the caller’s own key, the SDK’s headers; the log line names the provider and no key', async () => {
      const client = new Anthropic({
        baseURL: `${gw.url}/v1/passthrough/anthropic`,
        apiKey: 'sk-ant-caller-own-key',
        maxRetries: 0,
        defaultHeaders: { 'anthropic-version': '2024-10-22' },
      });
      const batch = await client.messages.batches.create(BATCH_REQUEST as Anthropic.Messages.BatchCreateParams);
      expect(batch.id).to.equal('msgbatch_013Zva2CMHLNnXjNJJKqJ2EF');
      expect(batch.request_counts.processing).to.equal(2);
      const got = fakes.anthropic.requests[0]!;
      expect(got.pathname).to.equal('/v1/messages/batches');
      expect(got.headers['x-api-key']).to.equal('sk-ant-caller-own-key');
      expect(got.headers['anthropic-version'], 'the client’s own version goes as sent').to.equal('2024-10-22');
      const line = await logs.waitFor(
        (r) => r.msg === 'request' && r.route === '/v1/passthrough/anthropic/v1/messages/batches' && r.provider === 'anthropic',
        'the log line',
      );
      expect(line.status).to.equal(200);
      expect(JSON.stringify(line)).to.not.contain('sk-ant-caller-own-key');
    });

    it('a key in a config header wins, as it does on every other endpoint', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'anthropic', api_key: 'sk-ant-from-config' }) },
        body: JSON.stringify(BATCH_REQUEST),
      });
      expect(res.status).to.equal(200);
      expect(fakes.anthropic.requests[0]!.headers['x-api-key']).to.equal('sk-ant-from-config');
    });

    it('a streamed answer (sent one byte at a time) is relayed event by event, as the bytes Anthropic sent; the SDK reads it', async () => {
      const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hello' }] });
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const sse = await readSSE(res);
      expect(sse.error).to.equal(undefined);
      expect(sse.text).to.equal(STREAM_TEXT);

      const client = new Anthropic({ baseURL: `${gw.url}/v1/passthrough/anthropic`, apiKey: 'sk-ant-caller', maxRetries: 0 });
      const stream = await client.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'Hello' }],
      });
      const types: string[] = [];
      let text = '';
      for await (const ev of stream) {
        types.push(ev.type);
        if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
      }
      expect(text).to.equal('Hello, wörld');
      expect(types.at(-1)).to.equal('message_stop');
    });

    it('a binary answer (batch results) is relayed as bytes with its type', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/messages/batches/msgbatch_013Zva2CMHLNnXjNJJKqJ2EF/results`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/binary');
      expect(await res.text()).to.equal('{"custom_id":"first","result":{"type":"succeeded"}}\n');
      expect(fakes.anthropic.requests[0]!.method).to.equal('GET');
    });

    it('Anthropic’s error answer is relayed with its status and its own shape', async () => {
      fakes.anthropic.enqueue(anthropicError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'));
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'anthropic', retry: { attempts: 0 } }) },
        body: JSON.stringify(BATCH_REQUEST),
      });
      expect(res.status).to.equal(429);
      expect(await res.json()).to.deep.equal({
        type: 'error',
        error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
      });
    });
  });

  describe('OpenAI, Gemini, Cohere', () => {
    it('GET …/openai/v1/models with its query, through the openai SDK: OpenAI’s path and the caller’s bearer key', async () => {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-caller-openai', maxRetries: 0 });
      const list = await client.get<{ object: string; data: Array<{ id: string }> }>('/passthrough/openai/v1/models', { query: { limit: 1 } });
      expect(list.data.map((m) => m.id)).to.deep.equal(['gpt-4o']);
      const got = fakes.openai.requests[0]!;
      expect(`${got.method} ${got.url}`).to.equal('GET /v1/models?limit=1');
      expect(got.headers.authorization).to.equal('Bearer sk-caller-openai');
    });

    it('a binary file’s contents from OpenAI, byte for byte, with the gateway’s key when the caller sends none', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/openai/v1/files/file-abc123/content`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/octet-stream');
      expect(Buffer.from(await res.arrayBuffer()).equals(BINARY)).to.equal(true);
      expect(fakes.openai.requests[0]!.headers.authorization).to.equal(`Bearer ${HELD.openai}`);
    });

    it('DELETE is forwarded', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/openai/v1/vector_stores/vs_1`, { method: 'DELETE' });
      expect(await res.json()).to.deep.equal({ id: 'vs_1', object: 'vector_store.deleted', deleted: true });
      expect(fakes.openai.requests[0]!.method).to.equal('DELETE');
    });

    it('Gemini: the key as x-goog-api-key, a path with a colon intact', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/google/v1beta/models/gemini-2.0-flash:countTokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'Hello' }] }] }),
      });
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(await res.json()).to.deep.equal({ totalTokens: 31, promptTokensDetails: [] });
      expect(fakes.google.requests[0]!.pathname).to.equal('/v1beta/models/gemini-2.0-flash:countTokens');
      expect(fakes.google.requests[0]!.headers).to.not.have.property('authorization');
    });

    it('Cohere: the key as a bearer token on its v2 path', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/cohere/v2/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'rerank-v3.5', query: 'q', documents: ['a', 'b'] }),
      });
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(((await res.json()) as { results: unknown[] }).results).to.deep.equal([{ index: 1, relevance_score: 0.9 }]);
      expect(fakes.cohere.requests[0]!.url).to.equal('/v2/rerank');
    });

    it('hop-by-hop headers (and those Connection names), gateway headers and the caller’s credential headers stay at the gateway', async () => {
      const res = await rawRequest(gw.url, 'GET', '/v1/passthrough/openai/v1/models', {
        connection: 'keep-alive, x-hop-secret',
        'x-hop-secret': 'hop',
        'x-portkey-metadata': '{"a":"b"}',
        'x-goog-api-key': 'caller-goog',
        'proxy-authorization': 'Basic abc',
        'openai-beta': 'assistants=v2',
        'accept-encoding': 'gzip',
      });
      expect(res.status).to.equal(200);
      const got = fakes.openai.requests[0]!;
      expect(got.headers).to.not.have.any.keys('x-hop-secret', 'x-portkey-metadata', 'x-goog-api-key', 'proxy-authorization');
      expect(got.headers['accept-encoding'] ?? '').to.not.contain('gzip');
      expect(got.headers['openai-beta']).to.equal('assistants=v2');
    });
  });

  describe('what is refused before anything leaves the gateway', () => {
    const escapes = [
      '/v1/passthrough/anthropic/../../admin',
      '/v1/passthrough/anthropic/v1/../../../etc/passwd',
      '/v1/passthrough/anthropic/v1/%2e%2e/%2E%2E/x',
      '/v1/passthrough/anthropic/v1/.%2e/x',
      '/v1/passthrough/anthropic/%2e/v1/models',
      '/v1/passthrough/anthropic//evil.example/v1/messages',
      '/v1/passthrough/anthropic/http://evil.example/v1/messages',
      '/v1/passthrough/anthropic/https:%2F%2Fevil.example',
      '/v1/passthrough/anthropic/v1\\..\\..\\x',
      '/v1/passthrough/anthropic/v1/%5c..%5cx',
      '/v1/passthrough/anthropic/v1/messages%2f..%2f..%2fx',
      '/v1/passthrough/anthropic/v1/mess%00ages',
      '/v1/passthrough/anthropic/v1/a@evil.example',
      '/v1/passthrough/anthropic/',
    ];
    for (const path of escapes.slice(0, -2)) {
      it(`${path} → 400, nothing sent`, async () => {
        const res = await rawRequest(gw.url, 'GET', path);
        expect(res.status, res.body.toString()).to.equal(400);
        const body = JSON.parse(res.body.toString()) as { error: { code: string; message: string } };
        expect(body.error.code).to.equal('invalid_request');
        expect(body.error.message).to.match(/^\/v1\/passthrough\/\{provider\}\/\{path\}: /);
        expect(sent()).to.equal(0);
      });
    }

    it('an @ in a segment stays a path on the provider (never a host)', async () => {
      const res = await rawRequest(gw.url, 'GET', '/v1/passthrough/anthropic/v1/a@evil.example');
      expect(res.status).to.equal(404);
      expect(fakes.anthropic.requests.map((r) => r.url)).to.deep.equal(['/v1/a@evil.example']);
    });

    it('no path after the provider → 400 saying what to send', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/`);
      await expectGatewayError(res, 400, 'invalid_request', /name the provider's own path after \/anthropic\//);
      expect(sent()).to.equal(0);
    });

    it('an unknown provider → 400 unknown_provider listing the known ones', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/no-such-ai/v1/models`);
      await expectGatewayError(res, 400, 'unknown_provider', /unknown provider "no-such-ai"; this gateway knows: .*anthropic/);
      expect(sent()).to.equal(0);
    });

    it('a provider without a native passthrough → 400 naming what it serves', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/bedrock/model/x/converse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      await expectGatewayError(
        res,
        400,
        'unsupported_endpoint',
        /^Provider bedrock does not serve the native passthrough .*; it serves: .*chat\.completions/,
      );
    });

    it('a provider header that names another provider → 400', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/models`, { headers: { 'x-waygate-provider': 'openai' } });
      await expectGatewayError(res, 400, 'invalid_header', /x-waygate-provider names "openai" but the path names provider "anthropic"/);
      expect(sent()).to.equal(0);
    });

    it('a policy-only config header works with the provider header naming the same provider (Portkey’s way)', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/openai/v1/models`, {
        headers: { 'x-portkey-config': JSON.stringify({ request_timeout: 5000 }), 'x-portkey-provider': 'openai' },
      });
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(fakes.openai.requests).to.have.length(1);
    });

    it('a custom host header where no config or provider header says whose it is → 400 saying what to send, nothing sent', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/models`, { headers: { 'x-waygate-custom-host': fakes.anthropic.url } });
      await expectGatewayError(
        res,
        400,
        'invalid_header',
        /x-waygate-custom-host on \/v1\/passthrough\/anthropic\/\.\.\. needs the provider named in a header too/,
      );
      expect(sent()).to.equal(0);
    });
  });

  describe('timeouts and a cut stream', () => {
    let server: http.Server;
    let tgw: Gateway;
    let seen = 0;
    before(async () => {
      // Anthropic's API as it fails: one path never answers, a stream is cut after its first event.
      server = http.createServer((req, res) => {
        seen++;
        req.resume();
        if (req.url === '/v1/messages') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(STREAM_TEXT.slice(0, STREAM_TEXT.indexOf('\n\n') + 2));
          setTimeout(() => res.socket?.destroy(), 20);
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      tgw = await startGateway({
        config: { providers: { anthropic: { api_key: HELD.anthropic, base_url: `http://127.0.0.1:${port}/v1` } } },
        port: 0,
        host: '127.0.0.1',
        logger: new LogCapture('warn').logger,
        env: {},
      });
    });
    after(async () => {
      await tgw?.close(0);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('the request timeout applies: an upstream that never answers → 408 upstream_timeout', async () => {
      const res = await fetch(`${tgw.url}/v1/passthrough/anthropic/v1/messages/batches/msgbatch_1`, { headers: { 'x-waygate-request-timeout': '150' } });
      await expectGatewayError(res, 408, 'upstream_timeout', /Request to anthropic timed out/);
      expect(seen).to.be.greaterThan(0);
    });

    it('a stream cut after it started ends with a terminal error event after the events that came', async () => {
      const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hello' }] });
      const res = await fetch(`${tgw.url}/v1/passthrough/anthropic/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status).to.equal(200);
      const sse = await readSSE(res);
      expect(sse.data[0]).to.equal(JSON.stringify(STREAM_EVENTS[0]![1]));
      const last = JSON.parse(sse.data.at(-1)!) as { error: { code: string; message: string } };
      expect(last.error.code).to.equal('stream_interrupted');
      expect(last.error.message).to.match(/^The stream from anthropic failed after it started/);
      expect(sse.text).to.not.contain(HELD.anthropic);
    });
  });

  describe('gateway keys', () => {
    let kgw: Gateway;
    before(async () => {
      kgw = await startGateway({
        config: {
          providers: {
            anthropic: { api_key: HELD.anthropic, base_url: `${fakes.anthropic.url}/v1` },
            openai: { api_key: HELD.openai, base_url: `${fakes.openai.url}/v1` },
          },
          plugins: [
            {
              module: '@waygate/auth',
              options: {
                keys: [
                  { id: 'all', name: 'passthrough anywhere', sha256: sha(GATEWAY_KEY), endpoints: ['passthrough*'] },
                  { id: 'openai-only', name: 'openai only', sha256: sha(OPENAI_ONLY_KEY), providers: ['openai'] },
                  { id: 'chat-only', name: 'chat only', sha256: sha(CHAT_ONLY_KEY), endpoints: ['chat.completions'] },
                ],
              },
            },
          ],
        },
        port: 0,
        host: '127.0.0.1',
        logger: new LogCapture('warn').logger,
        env: {},
      });
    });
    after(() => kgw?.close(0));

    const batches = (key: string, header = 'authorization') =>
      fetch(`${kgw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [header]: header === 'authorization' ? `Bearer ${key}` : key },
        body: JSON.stringify(BATCH_REQUEST),
      });

    it('an allowed key is served with the gateway’s provider key; the gateway key never reaches the provider', async () => {
      for (const header of ['authorization', 'x-api-key', 'x-waygate-api-key']) {
        const res = await batches(GATEWAY_KEY, header);
        expect(res.status, await res.clone().text()).to.equal(200);
      }
      expect(fakes.anthropic.requests).to.have.length(3);
      for (const r of fakes.anthropic.requests) {
        expect(r.headers['x-api-key']).to.equal(HELD.anthropic);
        expect(allHeaders(r)).to.not.contain(GATEWAY_KEY);
      }
    });

    it('a key restricted to other providers → 403, and the provider sees nothing', async () => {
      const res = await batches(OPENAI_ONLY_KEY);
      await expectGatewayError(res, 403, 'provider_not_allowed', /may not use provider anthropic/);
      expect(sent()).to.equal(0);
      const ok = await fetch(`${kgw.url}/v1/passthrough/openai/v1/models`, { headers: { authorization: `Bearer ${OPENAI_ONLY_KEY}` } });
      expect(ok.status).to.equal(200);
      expect(fakes.openai.requests[0]!.headers.authorization).to.equal(`Bearer ${HELD.openai}`);
    });

    it('a key whose endpoints do not include passthrough.native → 403, nothing sent', async () => {
      const res = await batches(CHAT_ONLY_KEY);
      await expectGatewayError(res, 403, 'endpoint_not_allowed', /may not use passthrough\.native/);
      expect(sent()).to.equal(0);
    });

    it('no gateway key → 401 before anything else, even for a path that escapes', async () => {
      const res = await rawRequest(kgw.url, 'GET', '/v1/passthrough/anthropic/../x');
      expect(res.status).to.equal(401);
      expect(sent()).to.equal(0);
    });
  });

  describe('the egress policy', () => {
    let egw: Gateway;
    let restore: () => void;
    before(async () => {
      // A name this test answers itself with a loopback address (node's dns.lookup, which the policy's lookup calls).
      const real = dns.lookup;
      dns.lookup = ((host: string, options: dns.LookupOptions, cb: (...args: unknown[]) => void) => {
        if (host !== 'anthropic-proxy.test') return (real as (...args: unknown[]) => void)(host, options, cb);
        if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
        else cb(null, '127.0.0.1', 4);
      }) as typeof dns.lookup;
      restore = () => (dns.lookup = real);
      egw = await startGateway({ config: { egress: { private: 'deny' } }, port: 0, host: '127.0.0.1', logger: new LogCapture('warn').logger, env: {} });
    });
    after(async () => {
      restore();
      await egw?.close(0);
    });

    const port = () => new URL(fakes.anthropic.url).port;

    it('a custom host whose name resolves to loopback, refused by the policy → 400, and no connection is made', async () => {
      const res = await fetch(`${egw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'sk-ant-caller',
          'x-waygate-provider': 'anthropic',
          'x-waygate-custom-host': `http://anthropic-proxy.test:${port()}/v1`,
        },
        body: JSON.stringify(BATCH_REQUEST),
      });
      await expectGatewayError(
        res,
        400,
        'forbidden_custom_host',
        /anthropic-proxy\.test resolves to 127\.0\.0\.1, a loopback address, refused by the egress policy/,
      );
      expect(sent()).to.equal(0);
    });

    it('the same in a config header’s custom_host, and a literal loopback address', async () => {
      let res = await fetch(`${egw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-waygate-config': JSON.stringify({ provider: 'anthropic', api_key: 'sk-ant-caller', custom_host: `http://anthropic-proxy.test:${port()}/v1` }),
        },
        body: JSON.stringify(BATCH_REQUEST),
      });
      await expectGatewayError(res, 400, 'forbidden_custom_host', /refused by the egress policy/);
      res = await fetch(`${egw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'sk-ant-caller',
          'x-portkey-provider': 'anthropic',
          'x-portkey-custom-host': `http://127.0.0.1:${port()}/v1`,
        },
        body: JSON.stringify(BATCH_REQUEST),
      });
      await expectGatewayError(res, 400, 'forbidden_custom_host', /127\.0\.0\.1 is a loopback address, refused by the egress policy/);
      expect(sent()).to.equal(0);
    });

    it('where the policy allows it, the custom host is the API root the path goes to', async () => {
      const res = await fetch(`${gw.url}/v1/passthrough/anthropic/v1/messages/batches`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': 'sk-ant-caller',
          'x-waygate-provider': 'anthropic',
          'x-waygate-custom-host': `http://anthropic-proxy.test:${port()}/v1`,
        },
        body: JSON.stringify(BATCH_REQUEST),
      });
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(fakes.anthropic.requests.map((r) => r.url)).to.deep.equal(['/v1/messages/batches']);
      expect(fakes.anthropic.requests[0]!.headers.host).to.equal(`anthropic-proxy.test:${port()}`);
    });
  });
});
