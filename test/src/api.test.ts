// End to end through the public API: the real gateway (startGateway, default plugins) in process,
// driven by the official `openai` SDK and by raw fetch for malformed input, in front of a fake
// OpenAI upstream that is a real HTTP server on loopback.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI, { APIError, AuthenticationError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import type { ClientOptions } from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeOpenAI } from './fakes/index.js';
import { LogCapture, expectGatewayError, postRaw, readSSE } from './helpers/api-support.js';

const REPLY = 'The quick brown fox jumps over the lazy dog';
const REPLY_WORDS = 9;
const CHUNKS = 5;
const KEY = 'sk-test-client-key-0001';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHAT = '/v1/chat/completions';
const MESSAGES = [{ role: 'user' as const, content: 'Say hello to the gateway' }];
const PROMPT_WORDS = 5;

/** The error a promise rejects with; fails the test if it resolves. */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  expect.fail('expected the call to fail, but it succeeded');
}

describe('API end to end: OpenAI SDK → gateway → fake OpenAI', function () {
  let fake: FakeOpenAI;

  before(async () => {
    fake = await FakeOpenAI.start({ reply: REPLY, chunkCount: CHUNKS });
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  /** Asserts the fake upstream was never called (checked after the gateway answered, so a forwarded request would already be recorded). */
  function expectNoUpstreamCall(): void {
    expect(
      fake.requests.map((r) => `${r.method} ${r.path}`),
      'requests that reached the upstream',
    ).to.deep.equal([]);
  }

  describe('the default gateway (bundled providers, no routing)', function () {
    let gw: Gateway;
    let logs: LogCapture;

    before(async () => {
      logs = new LogCapture('trace');
      gw = await startGateway({ config: {}, port: 0, logger: logs.logger });
    });
    after(async () => {
      await gw?.close();
    });

    function client(opts: Partial<ClientOptions> = {}, headers: Record<string, string> = {}): OpenAI {
      return new OpenAI({
        baseURL: `${gw.url}/v1`,
        apiKey: KEY,
        maxRetries: 0,
        ...opts,
        defaultHeaders: { 'x-waygate-provider': 'openai', 'x-waygate-custom-host': fake.baseURL, ...headers },
      });
    }

    /** Headers that route a raw request to the fake with the client key. */
    function routed(extra: Record<string, string> = {}): Record<string, string> {
      return { authorization: `Bearer ${KEY}`, 'x-waygate-provider': 'openai', 'x-waygate-custom-host': fake.baseURL, ...extra };
    }

    describe('OpenAI endpoints', function () {
      it('chat completion: answer, model and usage come from the upstream; the upstream gets the client bytes and key; a request id comes back', async () => {
        const sent: string[] = [];
        const recordingFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
          if (typeof init?.body === 'string') sent.push(init.body);
          return fetch(input, init);
        };
        const params: OpenAI.ChatCompletionCreateParamsNonStreaming & { some_new_param: { x: number } } = {
          model: 'gpt-4o-mini',
          messages: MESSAGES,
          temperature: 0.2,
          some_new_param: { x: 1 },
        };
        const { data, response } = await client({ fetch: recordingFetch }).chat.completions.create(params).withResponse();

        expect(response.status).to.equal(200);
        expect(response.headers.get('x-waygate-request-id')).to.match(UUID);
        expect(data.object).to.equal('chat.completion');
        expect(data.model).to.equal('gpt-4o-mini');
        expect(data.choices).to.have.length(1);
        expect(data.choices[0]!.message.content).to.equal(REPLY);
        expect(data.choices[0]!.finish_reason).to.equal('stop');
        expect(data.usage).to.deep.equal({ prompt_tokens: PROMPT_WORDS, completion_tokens: REPLY_WORDS, total_tokens: PROMPT_WORDS + REPLY_WORDS });

        expect(fake.requests).to.have.length(1);
        const up = fake.requests[0]!;
        expect(up.method).to.equal('POST');
        expect(up.path).to.equal(CHAT);
        expect(sent).to.have.length(1);
        expect(up.rawBody, 'upstream body vs the bytes the SDK sent').to.equal(sent[0]);
        expect(up.body.some_new_param).to.deep.equal({ x: 1 });
        expect(up.headers.authorization).to.equal(`Bearer ${KEY}`);
        expect(up.headers['content-type']).to.match(/^application\/json/);
        // The gateway's own control headers are not sent on to the provider.
        expect(Object.keys(up.headers).filter((h) => h.startsWith('x-waygate-'))).to.deep.equal([]);
      });

      it('forwards the client body byte for byte (field order, spacing, escapes and unknown fields untouched)', async () => {
        const raw =
          '{ "messages" : [ {"role":"user","content":"h\\u00e9llo  w\u00f6rld \\"q\\""} ],\n' +
          '  "some_new_param": {"x":1, "nested": [true, null, 1.50]},  "model":"gpt-4o-mini" }';
        const res = await postRaw(gw.url + CHAT, raw, routed());
        expect(res.status).to.equal(200);
        const body = (await res.json()) as OpenAI.ChatCompletion;
        expect(body.choices[0]!.message.content).to.equal(REPLY);
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.rawBody).to.equal(raw);
      });

      it('streaming chat: every chunk in order, the finish reason and the usage chunk; the log line reports the tokens', async () => {
        const { data: stream, response } = await client()
          .chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES, stream: true, stream_options: { include_usage: true } })
          .withResponse();
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.match(/^text\/event-stream/);
        const reqId = response.headers.get('x-waygate-request-id');
        expect(reqId).to.match(UUID);

        const chunks: OpenAI.ChatCompletionChunk[] = [];
        for await (const chunk of stream) chunks.push(chunk);

        // role chunk + CHUNKS content chunks + finish chunk + usage chunk
        expect(chunks).to.have.length(CHUNKS + 3);
        expect(new Set(chunks.map((c) => c.id)).size, 'one completion id').to.equal(1);
        expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-4o-mini')).to.equal(true);
        expect(chunks[0]!.choices[0]!.delta.role).to.equal('assistant');
        const content = chunks.slice(1, 1 + CHUNKS).map((c) => c.choices[0]!.delta.content);
        expect(
          content.every((p) => typeof p === 'string' && p.length > 0),
          `content pieces ${JSON.stringify(content)}`,
        ).to.equal(true);
        expect(content.join('')).to.equal(REPLY);
        expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).to.equal(REPLY);
        expect(chunks[CHUNKS + 1]!.choices[0]!.finish_reason).to.equal('stop');
        const last = chunks[CHUNKS + 2]!;
        expect(last.choices).to.deep.equal([]);
        expect(last.usage).to.deep.equal({ prompt_tokens: PROMPT_WORDS, completion_tokens: REPLY_WORDS, total_tokens: PROMPT_WORDS + REPLY_WORDS });

        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.body.stream).to.equal(true);
        expect(fake.requests[0]!.body.stream_options).to.deep.equal({ include_usage: true });

        const line = await logs.requestLine(reqId!);
        expect(line).to.include({ status: 200, stream: true, provider: 'openai', route: CHAT });
        expect(line.promptTokens).to.equal(PROMPT_WORDS);
        expect(line.completionTokens).to.equal(REPLY_WORDS);
      });

      it('embeddings: an input array gives one vector per input, of the asked dimensions, in order', async () => {
        const input = ['first input', 'second', 'the third input'];
        const res = await client().embeddings.create({ model: 'text-embedding-3-small', input, dimensions: 16 });
        expect(res.object).to.equal('list');
        expect(res.model).to.equal('text-embedding-3-small');
        expect(res.data).to.have.length(3);
        res.data.forEach((d, i) => {
          expect(d.index).to.equal(i);
          expect(d.embedding).to.have.length(16);
          // The fake sends unit vectors: the (base64) floats arrived intact.
          const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
          expect(norm).to.be.closeTo(1, 1e-4);
        });
        expect(res.data[0]!.embedding).to.not.deep.equal(res.data[1]!.embedding);
        expect(res.usage.prompt_tokens).to.equal(6);
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.path).to.equal('/v1/embeddings');
        expect(fake.requests[0]!.body.input).to.deep.equal(input);
        expect(fake.requests[0]!.body.dimensions).to.equal(16);
      });

      it('GET /v1/models: models.list() returns the upstream list', async () => {
        const page = await client().models.list();
        expect(page.data.map((m) => m.id)).to.deep.equal(['gpt-4o', 'gpt-4o-mini', 'gpt-3.5-turbo-instruct', 'text-embedding-3-small']);
        expect(page.data.every((m) => m.object === 'model' && m.owned_by === 'system')).to.equal(true);
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.method).to.equal('GET');
        expect(fake.requests[0]!.path).to.equal('/v1/models');
        expect(fake.requests[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
      });

      it('legacy completions, plain and streamed', async () => {
        const c = client();
        const res = await c.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Once upon a time', max_tokens: 3 });
        expect(res.object).to.equal('text_completion');
        expect(res.model).to.equal('gpt-3.5-turbo-instruct');
        expect(res.choices[0]!.text).to.equal('The quick brown');
        expect(res.choices[0]!.finish_reason).to.equal('length');
        expect(res.usage).to.deep.equal({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
        expect(fake.requests[0]!.path).to.equal('/v1/completions');

        const stream = await c.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Once upon a time', stream: true });
        let text = '';
        let finish: string | null | undefined;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.text ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        expect(text).to.equal(REPLY);
        expect(finish).to.equal('stop');
        expect(fake.requests).to.have.length(2);
      });
    });

    describe('upstream errors keep their status and message', function () {
      it('429 → RateLimitError with the upstream message and code, and no hidden retry', async () => {
        fake.enqueue({ kind: 'status', status: 429 });
        const err = await rejection(client().chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
        expect(err).to.be.instanceOf(RateLimitError);
        const e = err as RateLimitError;
        expect(e.status).to.equal(429);
        expect(e.message).to.include('Rate limit reached for requests. Please try again later.');
        expect(e.code).to.equal('rate_limit_exceeded');
        expect(e.headers.get('x-waygate-request-id')).to.match(UUID);
        expect(fake.requests).to.have.length(1);
      });

      it("429 keeps the upstream's retry-after and rate-limit headers", async () => {
        fake.enqueue({
          kind: 'status',
          status: 429,
          headers: { 'retry-after': '7', 'retry-after-ms': '7000', 'x-ratelimit-remaining-requests': '0' },
        });
        const err = await rejection(client().chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
        expect(err).to.be.instanceOf(RateLimitError);
        const h = (err as RateLimitError).headers;
        expect(h.get('retry-after')).to.equal('7');
        expect(h.get('retry-after-ms')).to.equal('7000');
        expect(h.get('x-ratelimit-remaining-requests')).to.equal('0');
      });

      it('500 → InternalServerError with the upstream message', async () => {
        fake.enqueue({ kind: 'status', status: 500 });
        const err = await rejection(client().chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
        expect(err).to.be.instanceOf(InternalServerError);
        const e = err as InternalServerError;
        expect(e.status).to.equal(500);
        expect(e.message).to.include('The server had an error while processing your request');
        expect(e.type).to.equal('server_error');
        expect(fake.requests).to.have.length(1);
      });

      it('400 → BadRequestError with the upstream param, code and type preserved', async () => {
        const upstreamError = {
          message: "Invalid value for 'temperature': must be between 0 and 2.",
          type: 'invalid_request_error',
          param: 'temperature',
          code: 'invalid_value',
        };
        fake.enqueue({ kind: 'status', status: 400, body: { error: upstreamError } });
        const err = await rejection(client().chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES, temperature: 5 }));
        expect(err).to.be.instanceOf(BadRequestError);
        const e = err as BadRequestError;
        expect(e.status).to.equal(400);
        expect(e.param).to.equal('temperature');
        expect(e.code).to.equal('invalid_value');
        expect(e.type).to.equal('invalid_request_error');
        expect(e.error).to.deep.equal(upstreamError);
        expect(e.message).to.include(upstreamError.message);
      });

      it('a non-JSON upstream error body (503 text) still gives a 503 in OpenAI error shape carrying the text', async () => {
        const text = 'Service Unavailable: upstream is being upgraded';
        fake.enqueue({ kind: 'status', status: 503, body: text, headers: { 'content-type': 'text/plain' } });
        const res = await postRaw(gw.url + CHAT, JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES }), routed());
        const body = await expectGatewayError(res, 503, 'upstream_error', new RegExp(text));
        expect(body.error.type).to.equal('server_error');

        fake.enqueue({ kind: 'status', status: 503, body: text, headers: { 'content-type': 'text/plain' } });
        const err = await rejection(client().chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
        expect(err).to.be.instanceOf(InternalServerError);
        expect((err as InternalServerError).status).to.equal(503);
        expect((err as InternalServerError).message).to.include(text);
      });
    });

    describe('bad input is a 4xx that says what is wrong, and nothing reaches the upstream', function () {
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES });

      it('malformed JSON body → 400 invalid_json', async () => {
        const res = await postRaw(gw.url + CHAT, '{"model": "gpt-4o-mini", "messages": [', routed());
        await expectGatewayError(res, 400, 'invalid_json', /not valid JSON/);
        expectNoUpstreamCall();
      });

      it('a body that is not an object ([1]) → 400', async () => {
        const res = await postRaw(gw.url + CHAT, '[1]', routed());
        await expectGatewayError(res, 400, 'invalid_request', /must be a JSON object/);
        expectNoUpstreamCall();
      });

      it('an empty body → 400', async () => {
        const res = await postRaw(gw.url + CHAT, '', routed());
        await expectGatewayError(res, 400, 'invalid_request', /empty/);
        expectNoUpstreamCall();
      });

      it('x-waygate-config that is not JSON → 400 invalid_config', async () => {
        const res = await postRaw(gw.url + CHAT, body, {
          authorization: `Bearer ${KEY}`,
          'x-waygate-config': '{"provider": "openai",',
        });
        await expectGatewayError(res, 400, 'invalid_config', /x-waygate-config is not valid JSON/, 'x-waygate-config');
        expectNoUpstreamCall();
      });

      it('a config with a wrongly typed field → 400 naming config.targets[0].weight', async () => {
        const config = { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai', custom_host: fake.baseURL, weight: 'heavy' }] };
        const res = await postRaw(gw.url + CHAT, body, { authorization: `Bearer ${KEY}`, 'x-waygate-config': JSON.stringify(config) });
        await expectGatewayError(res, 400, 'invalid_config', /config\.targets\[0\]\.weight/, 'config.targets[0].weight');
        expectNoUpstreamCall();
      });

      it('unknown provider → 400 unknown_provider naming it (in the provider header and deep in a config)', async () => {
        let res = await postRaw(gw.url + CHAT, body, routed({ 'x-waygate-provider': 'no-such-llm' }));
        const err = await expectGatewayError(res, 400, 'unknown_provider', /"no-such-llm"/, 'config.provider');
        expect(err.error.message, 'lists the known providers').to.include('openai');

        const config = {
          strategy: { mode: 'fallback' },
          targets: [{ provider: 'openai', custom_host: fake.baseURL }, { provider: 'no-such-llm' }],
        };
        res = await postRaw(gw.url + CHAT, body, { authorization: `Bearer ${KEY}`, 'x-waygate-config': JSON.stringify(config) });
        await expectGatewayError(res, 400, 'unknown_provider', /"no-such-llm"/, 'config.targets[1].provider');
        expectNoUpstreamCall();
      });

      it('no provider and no config (and no routing in the gateway config) → 400 missing_provider', async () => {
        const res = await postRaw(gw.url + CHAT, body, { authorization: `Bearer ${KEY}` });
        await expectGatewayError(res, 400, 'missing_provider', /x-waygate-provider/);
        expectNoUpstreamCall();
      });

      it('wrong content type (text/plain) → 415', async () => {
        const res = await postRaw(gw.url + CHAT, body, routed({ 'content-type': 'text/plain' }));
        await expectGatewayError(res, 415, 'unsupported_media_type', /Content-Type must be application\/json/);
        expectNoUpstreamCall();
      });

      for (const host of [
        'file:///etc/passwd',
        'http://169.254.169.254/latest',
        'http://metadata.google.internal/',
        'http://2852039166/latest', // 169.254.169.254 as one number
        'http://[::ffff:169.254.169.254]/latest',
      ]) {
        it(`custom host ${host} → 400 forbidden_custom_host`, async () => {
          const res = await postRaw(gw.url + CHAT, body, routed({ 'x-waygate-custom-host': host }));
          await expectGatewayError(res, 400, 'forbidden_custom_host', /not allowed/, 'config.custom_host');
          expectNoUpstreamCall();
        });
      }

      it('a forbidden custom host inside a config (top level or a nested target) → 400 naming its path', async () => {
        let res = await postRaw(gw.url + CHAT, body, {
          authorization: `Bearer ${KEY}`,
          'x-waygate-config': JSON.stringify({ provider: 'openai', custom_host: 'http://169.254.169.254/v1' }),
        });
        await expectGatewayError(res, 400, 'forbidden_custom_host', /not allowed/, 'config.custom_host');
        res = await postRaw(gw.url + CHAT, body, {
          authorization: `Bearer ${KEY}`,
          'x-waygate-config': JSON.stringify({
            strategy: { mode: 'fallback' },
            targets: [
              { provider: 'openai', custom_host: fake.baseURL },
              { provider: 'openai', custom_host: 'http://metadata.google.internal/v1' },
            ],
          }),
        });
        await expectGatewayError(res, 400, 'forbidden_custom_host', /not allowed/, 'config.targets[1].custom_host');
        expectNoUpstreamCall();
      });

      it('a provider that needs a custom host (ollama) without one → 400 saying so', async () => {
        const res = await postRaw(gw.url + CHAT, body, { authorization: `Bearer ${KEY}`, 'x-waygate-provider': 'ollama' });
        await expectGatewayError(res, 400, 'invalid_config', /custom_host|custom-host/);
        expectNoUpstreamCall();
      });

      it('unknown route (outside /v1, where any path is forwarded) → 404', async () => {
        const res = await postRaw(gw.url + '/v9/no/such/route', body, routed());
        await expectGatewayError(res, 404, 'not_found', /\/v9\/no\/such\/route/);
        expectNoUpstreamCall();
      });

      it('GET on /v1/chat/completions → 405', async () => {
        const res = await fetch(gw.url + CHAT, { headers: routed() });
        await expectGatewayError(res, 405, 'method_not_allowed', /GET is not allowed/);
        expectNoUpstreamCall();
      });

      it('a request-timeout header that is not a positive number → 400', async () => {
        const res = await postRaw(gw.url + CHAT, body, routed({ 'x-waygate-request-timeout': 'soon' }));
        await expectGatewayError(res, 400, 'invalid_header', /request-timeout/);
        expectNoUpstreamCall();
      });
    });

    describe('Portkey dialect', function () {
      function portkey(extra: Record<string, string> = {}): Record<string, string> {
        return { authorization: `Bearer ${KEY}`, ...extra };
      }
      const body = JSON.stringify({ model: 'gpt-4o', messages: MESSAGES, temperature: 0.9, some_new_param: { x: 1 } });

      it('x-portkey-provider / custom-host / trace-id → 200 with x-portkey-trace-id and x-portkey-provider echoed', async () => {
        const c = new OpenAI({
          baseURL: `${gw.url}/v1`,
          apiKey: KEY,
          maxRetries: 0,
          defaultHeaders: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': fake.baseURL, 'x-portkey-trace-id': 'abc' },
        });
        const { data, response } = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }).withResponse();
        expect(response.status).to.equal(200);
        expect(response.headers.get('x-portkey-trace-id')).to.equal('abc');
        expect(response.headers.get('x-portkey-provider')).to.equal('openai');
        expect(data.choices[0]!.message.content).to.equal(REPLY);
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
        expect(Object.keys(fake.requests[0]!.headers).filter((h) => h.startsWith('x-portkey-'))).to.deep.equal([]);
      });

      it('x-portkey-config override_params replace the model and temperature the upstream receives; other fields stay', async () => {
        const config = { provider: 'openai', custom_host: fake.baseURL, override_params: { model: 'gpt-4o-mini', temperature: 0 } };
        const res = await postRaw(gw.url + CHAT, body, portkey({ 'x-portkey-config': JSON.stringify(config) }));
        expect(res.status).to.equal(200);
        const answer = (await res.json()) as OpenAI.ChatCompletion;
        expect(answer.model).to.equal('gpt-4o-mini');
        expect(fake.requests).to.have.length(1);
        const up = fake.requests[0]!.body;
        expect(up.model).to.equal('gpt-4o-mini');
        expect(up.temperature).to.equal(0);
        expect(up.messages).to.deep.equal(MESSAGES);
        expect(up.some_new_param).to.deep.equal({ x: 1 });
      });

      it('a config that names a provider but no api_key uses the Authorization bearer; one with api_key uses that', async () => {
        const config = { provider: 'openai', custom_host: fake.baseURL };
        let res = await postRaw(gw.url + CHAT, body, portkey({ 'x-portkey-config': JSON.stringify(config) }));
        expect(res.status).to.equal(200);
        expect(fake.requests[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);

        res = await postRaw(gw.url + CHAT, body, portkey({ 'x-portkey-config': JSON.stringify({ ...config, api_key: 'sk-from-config' }) }));
        expect(res.status).to.equal(200);
        expect(fake.requests[1]!.headers.authorization).to.equal('Bearer sk-from-config');
      });

      describe('a config with neither provider nor targets applies to the provider the headers name', function () {
        /** Portkey's drop-in form: the provider, its key and host in headers, policy in the config. */
        const policy = (config: unknown) =>
          portkey({ 'x-portkey-provider': 'openai', 'x-portkey-custom-host': fake.baseURL, 'x-portkey-config': JSON.stringify(config) });

        it('retry only: a 503 is retried on the header-named provider, with the Authorization key', async () => {
          fake.enqueue({ kind: 'status', status: 503 });
          const res = await postRaw(gw.url + CHAT, body, policy({ retry: { attempts: 2 } }));
          expect(res.status).to.equal(200);
          expect(res.headers.get('x-portkey-retry-attempt-count')).to.equal('1');
          expect(res.headers.get('x-portkey-last-used-option-index')).to.equal('config');
          expect(res.headers.get('x-portkey-provider')).to.equal('openai');
          expect(fake.requests).to.have.length(2);
          for (const r of fake.requests) expect(r.headers.authorization).to.equal(`Bearer ${KEY}`);
        });

        it('cache only: the second identical request is a HIT without an upstream call', async () => {
          const config = { cache: { mode: 'simple', max_age: 60_000 } };
          const unique = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `cache-only ${Date.now()}` }] });
          const first = await postRaw(gw.url + CHAT, unique, policy(config));
          expect(first.status).to.equal(200);
          expect(first.headers.get('x-portkey-cache-status')).to.equal('MISS');
          const second = await postRaw(gw.url + CHAT, unique, policy(config));
          expect(second.status).to.equal(200);
          expect(second.headers.get('x-portkey-cache-status')).to.equal('HIT');
          expect(((await second.json()) as OpenAI.ChatCompletion).choices[0]!.message.content).to.equal(REPLY);
          expect(fake.requests).to.have.length(1);
        });

        it('request_timeout only: a slow upstream is a 408', async () => {
          fake.enqueue({ kind: 'delay', ms: 1500 });
          const res = await postRaw(gw.url + CHAT, body, policy({ request_timeout: 200 }));
          await expectGatewayError(res, 408, 'upstream_timeout', /timed out/);
          await fake.waitForIdle();
        });

        it('the OpenAI SDK with the Portkey headers and a hooks-only config gets the answer and hook_results', async () => {
          const c = new OpenAI({
            baseURL: `${gw.url}/v1`,
            apiKey: KEY,
            maxRetries: 0,
            defaultHeaders: {
              'x-portkey-provider': 'openai',
              'x-portkey-custom-host': fake.baseURL,
              'x-portkey-config': JSON.stringify({ output_guardrails: [{ 'default.contains': { words: ['fox'], operator: 'any' } }] }),
            },
          });
          const { data, response } = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }).withResponse();
          expect(response.status).to.equal(200);
          expect(data.choices[0]!.message.content).to.equal(REPLY);
          const results = (data as unknown as { hook_results: { after_request_hooks: Array<{ verdict: boolean }> } }).hook_results;
          expect(results.after_request_hooks[0]!.verdict).to.equal(true);
          expect(fake.requests[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
        });

        it('without a provider header either: 400 missing_provider saying where to name one, and no upstream call', async () => {
          const res = await postRaw(
            gw.url + CHAT,
            body,
            portkey({ 'x-portkey-custom-host': fake.baseURL, 'x-portkey-config': '{"retry":{"attempts":2}}' }),
          );
          await expectGatewayError(
            res,
            400,
            'missing_provider',
            /x-portkey-config names no provider.*x-portkey-provider.*or name it in the config/,
            'x-portkey-config',
          );
          expectNoUpstreamCall();
        });
      });

      it('x-portkey-forward-headers copies exactly the listed incoming headers to the upstream', async () => {
        const res = await postRaw(
          gw.url + CHAT,
          body,
          portkey({
            'x-portkey-provider': 'openai',
            'x-portkey-custom-host': fake.baseURL,
            'x-portkey-forward-headers': 'x-custom-a',
            'x-custom-a': 'alpha',
            'x-custom-b': 'beta',
          }),
        );
        expect(res.status).to.equal(200);
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.headers['x-custom-a']).to.equal('alpha');
        expect(fake.requests[0]!.headers).to.not.have.property('x-custom-b');
      });

      it('x-portkey-metadata that is not JSON → 400', async () => {
        const res = await postRaw(
          gw.url + CHAT,
          body,
          portkey({ 'x-portkey-provider': 'openai', 'x-portkey-custom-host': fake.baseURL, 'x-portkey-metadata': 'user=alice' }),
        );
        await expectGatewayError(res, 400, 'invalid_header', /metadata.*not valid JSON/);
        expectNoUpstreamCall();
      });
    });

    describe('timeouts', function () {
      it('x-waygate-request-timeout: 200 against a 1.5 s upstream → 408 upstream_timeout, and the upstream call is aborted', async () => {
        fake.enqueue({ kind: 'delay', ms: 1500 });
        const res = await postRaw(
          gw.url + CHAT,
          JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES }),
          routed({ 'x-waygate-request-timeout': '200' }),
        );
        await expectGatewayError(res, 408, 'upstream_timeout', /timed out/);
        await fake.waitForIdle();
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.aborted, 'the gateway gave up on the upstream request').to.equal(true);
      });
    });

    describe('streams that fail', function () {
      const streamBody = JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES, stream: true });

      it('a stream cut after 2 chunks: the client gets those chunks and then a terminal error event, never a clean close', async () => {
        fake.enqueue({ kind: 'stream-cut', afterChunks: 2 });
        const res = await postRaw(gw.url + CHAT, streamBody, routed());
        expect(res.status).to.equal(200);
        const reqId = res.headers.get('x-waygate-request-id')!;
        const sse = await readSSE(res);
        expect(sse.data, sse.text).to.have.length(4); // role chunk, 2 content chunks, the error
        expect(sse.data).to.not.include('[DONE]');
        const chunks = sse.data.slice(0, 3).map((d) => JSON.parse(d) as OpenAI.ChatCompletionChunk);
        expect(chunks[0]!.choices[0]!.delta.role).to.equal('assistant');
        const got = chunks.map((c) => c.choices[0]!.delta.content ?? '').join('');
        expect(got.length).to.be.greaterThan(0);
        expect(REPLY.startsWith(got), `${JSON.stringify(got)} is the start of the reply`).to.equal(true);
        expect(got).to.not.equal(REPLY);
        const last = JSON.parse(sse.data[3]!) as { error: { message: string; type: string; code: string } };
        expect(last.error.code).to.equal('stream_interrupted');
        expect(last.error.message).to.match(/failed after it started/);
        // One line per request: the request line itself records the interruption, at warn level.
        await logs.waitFor(
          (r) => r.reqId === reqId && r.msg === 'request' && r.status === 200 && r.errorCode === 'stream_interrupted' && r.level === 'warn',
          'request line with stream_interrupted',
        );
      });

      it('the SDK surfaces a mid-stream cut as an error after the chunks it got', async () => {
        fake.enqueue({ kind: 'stream-cut', afterChunks: 2 });
        const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES, stream: true });
        let text = '';
        const err = await rejection(
          (async () => {
            for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          })(),
        );
        expect(err).to.be.instanceOf(APIError);
        expect((err as APIError).message).to.match(/failed after it started/);
        expect(text.length).to.be.greaterThan(0);
        expect(REPLY.startsWith(text)).to.equal(true);
      });

      it('an error as the very first stream event (legacy completions) → a non-200 error answer', async () => {
        fake.enqueue({ kind: 'stream-error', afterChunks: 0 });
        const res = await postRaw(gw.url + '/v1/completions', JSON.stringify({ model: 'gpt-3.5-turbo-instruct', prompt: 'Hi', stream: true }), routed());
        await expectGatewayError(res, 502, 'upstream_error', /The server had an error while processing your request/);
        expect(fake.requests).to.have.length(1);
      });

      it('a chat stream that errors before any content (only the role chunk came) → a non-200 error answer', async () => {
        // OpenAI's chat streams open with an empty role chunk; design §7 holds the headers until the
        // first *content* event, so an error right after the role chunk can still be answered (or
        // fall back) as an ordinary error.
        fake.enqueue({ kind: 'stream-error', afterChunks: 0 });
        const res = await postRaw(gw.url + CHAT, streamBody, routed());
        const text = await res.clone().text();
        expect(res.status, text).to.not.equal(200);
        await expectGatewayError(res, 502, 'upstream_error', /The server had an error while processing your request/);
      });

      it('a 200 with malformed JSON from the upstream → 502 upstream_bad_response', async () => {
        fake.enqueue({ kind: 'malformed-json' });
        const res = await postRaw(gw.url + CHAT, JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES }), routed());
        await expectGatewayError(res, 502, 'upstream_bad_response', /not valid JSON/);
      });
    });

    describe('logs', function () {
      it('secrets never reach a log line; the request line has reqId, route, status, provider, model and timings', async () => {
        const SECRET = 'sk-secret-XYZ123456';
        const echo = {
          error: {
            message: `Incorrect API key provided: ${SECRET}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        };
        // The key as the bearer token ...
        fake.enqueue({ kind: 'status', status: 401, body: echo });
        const err = await rejection(client({ apiKey: SECRET }).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
        expect(err).to.be.instanceOf(AuthenticationError);
        const reqId = (err as AuthenticationError).headers.get('x-waygate-request-id')!;
        expect(reqId).to.match(UUID);
        expect(fake.requests[0]!.headers.authorization).to.equal(`Bearer ${SECRET}`);

        // ... and inside a Portkey config.
        fake.enqueue({ kind: 'status', status: 401, body: echo });
        const res = await postRaw(gw.url + CHAT, JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES }), {
          'x-portkey-config': JSON.stringify({ provider: 'openai', custom_host: fake.baseURL, api_key: SECRET }),
        });
        expect(res.status).to.equal(401);
        const reqId2 = res.headers.get('x-waygate-request-id')!;
        expect(fake.requests[1]!.headers.authorization).to.equal(`Bearer ${SECRET}`);

        // ... and on a request that succeeds.
        const ok = await client({ apiKey: SECRET }).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }).withResponse();
        const reqId3 = ok.response.headers.get('x-waygate-request-id')!;

        const line = await logs.requestLine(reqId);
        expect(line).to.include({ reqId, method: 'POST', route: CHAT, status: 401, provider: 'openai', model: 'gpt-4o-mini' });
        for (const k of ['totalMs', 'upstreamMs', 'overheadMs'] as const) {
          expect(line[k], k).to.be.a('number');
          expect(Number.isFinite(line[k] as number), k).to.equal(true);
        }
        expect(line.totalMs as number).to.be.at.least(line.upstreamMs as number);
        expect(String(line.error), 'the upstream message is logged, scrubbed').to.include('Incorrect API key provided');
        await logs.requestLine(reqId2);
        const okLine = await logs.requestLine(reqId3);
        expect(okLine).to.include({ status: 200, provider: 'openai', model: 'gpt-4o-mini' });

        expect(logs.lines.length).to.be.greaterThan(0);
        for (const l of logs.lines) expect(l, 'a log line').to.not.include(SECRET);
      });
    });
  });

  describe('a gateway with a 1 kb body limit', function () {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ config: { server: { bodyLimit: '1kb' } }, port: 0, logger: new LogCapture('info').logger });
    });
    after(async () => {
      await gw?.close();
    });

    const headers = () => ({ authorization: `Bearer ${KEY}`, 'x-waygate-provider': 'openai', 'x-waygate-custom-host': fake.baseURL });
    const big = () => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(2048) }] });

    it('a 2 KB body → 413 (declared length), and nothing reaches the upstream', async () => {
      const res = await postRaw(gw.url + CHAT, big(), headers());
      await expectGatewayError(res, 413, 'body_too_large', /larger than this gateway's limit of 1024 bytes/);
      expect(fake.requests).to.have.length(0);
    });

    it('a 2 KB chunked body (no content-length) → 413, and nothing reaches the upstream', async () => {
      const bytes = new TextEncoder().encode(big());
      const stream = new ReadableStream<Uint8Array>({
        start(ctrl) {
          for (let i = 0; i < bytes.length; i += 512) ctrl.enqueue(bytes.subarray(i, i + 512));
          ctrl.close();
        },
      });
      const res = await fetch(gw.url + CHAT, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers() },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      await expectGatewayError(res, 413, 'body_too_large', /limit/);
      expect(fake.requests).to.have.length(0);
    });

    it('a body under the limit still passes', async () => {
      const res = await postRaw(gw.url + CHAT, JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES }), headers());
      expect(res.status).to.equal(200);
      expect(fake.requests).to.have.length(1);
    });
  });

  describe('openai-compatible presets', function () {
    describe('a bundled preset slug', function () {
      let gw: Gateway;
      before(async () => {
        gw = await startGateway({ config: {}, port: 0, logger: new LogCapture('info').logger });
      });
      after(async () => {
        await gw?.close();
      });

      it('x-waygate-provider: groq with a custom host pointing at the fake works', async () => {
        const c = new OpenAI({
          baseURL: `${gw.url}/v1`,
          apiKey: 'gsk-groq-key',
          maxRetries: 0,
          defaultHeaders: { 'x-waygate-provider': 'groq', 'x-waygate-custom-host': fake.baseURL },
        });
        const res = await c.chat.completions.create({ model: 'llama-3.1-8b-instant', messages: MESSAGES });
        expect(res.choices[0]!.message.content).to.equal(REPLY);
        expect(res.model).to.equal('llama-3.1-8b-instant');
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.path).to.equal(CHAT);
        expect(fake.requests[0]!.headers.authorization).to.equal('Bearer gsk-groq-key');
      });
    });

    describe('gateway-held keys from a config file', function () {
      let gw: Gateway;
      let dir: string;
      let elsewhere: FakeOpenAI;

      before(async () => {
        elsewhere = await FakeOpenAI.start({ name: 'elsewhere' });
        dir = await mkdtemp(path.join(tmpdir(), 'waygate-api-test-'));
        const file = path.join(dir, 'waygate.json');
        await writeFile(
          file,
          JSON.stringify({
            providers: { 'together-ai': { api_key: 'env:TEST_TOGETHER_KEY', base_url: fake.baseURL } },
            routing: { provider: 'together-ai' },
          }),
        );
        gw = await startGateway({ config: file, port: 0, logger: new LogCapture('info').logger, env: { TEST_TOGETHER_KEY: 'tk-123' } });
      });
      after(async () => {
        await gw?.close();
        await elsewhere?.close();
        if (dir) await rm(dir, { recursive: true, force: true });
      });
      beforeEach(() => elsewhere.reset());

      const body = JSON.stringify({ model: 'meta-llama/Llama-3-8b-chat-hf', messages: MESSAGES });

      it('routes a request with no routing headers and no key to the configured provider with the env key', async () => {
        const res = await postRaw(gw.url + CHAT, body);
        expect(res.status).to.equal(200);
        const answer = (await res.json()) as OpenAI.ChatCompletion;
        expect(answer.choices[0]!.message.content).to.equal(REPLY);
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.path).to.equal(CHAT);
        expect(fake.requests[0]!.headers.authorization).to.equal('Bearer tk-123');
      });

      it("refuses a request-supplied custom host with the gateway's key (400), so the key cannot be sent elsewhere", async () => {
        const cases: Array<Record<string, string>> = [
          { 'x-waygate-provider': 'together-ai', 'x-waygate-custom-host': elsewhere.baseURL },
          { 'x-waygate-custom-host': elsewhere.baseURL },
          { 'x-portkey-custom-host': elsewhere.baseURL },
          { 'x-waygate-config': JSON.stringify({ provider: 'together-ai', custom_host: elsewhere.baseURL }) },
        ];
        for (const headers of cases) {
          const res = await postRaw(gw.url + CHAT, body, headers);
          const text = await res.clone().text();
          expect(res.status, `${JSON.stringify(headers)} → ${text}`).to.equal(400);
          await expectGatewayError(res, 400, 'missing_credentials', /custom host/);
        }
        expect(elsewhere.requests, 'requests sent to the other host').to.have.length(0);
        expect(fake.requests).to.have.length(0);

        // The same custom host with the caller's own key is fine: the caller's key goes there, not the gateway's.
        const res = await postRaw(gw.url + CHAT, body, { authorization: 'Bearer caller-own-key', 'x-waygate-custom-host': elsewhere.baseURL });
        expect(res.status).to.equal(200);
        expect(elsewhere.requests).to.have.length(1);
        expect(elsewhere.requests[0]!.headers.authorization).to.equal('Bearer caller-own-key');
      });
    });

    describe('the plugin option `presets`', function () {
      let gw: Gateway;
      let plain: Gateway;
      before(async () => {
        gw = await startGateway({
          config: {
            defaultPlugins: false,
            plugins: [
              '@waygate/openai-api',
              '@waygate/provider-openai',
              { module: '@waygate/provider-openai-compatible', options: { presets: { 'my-llm': { base_url: fake.baseURL } } } },
            ],
          },
          port: 0,
          logger: new LogCapture('info').logger,
        });
        plain = await startGateway({ config: {}, port: 0, logger: new LogCapture('info').logger });
      });
      after(async () => {
        await gw?.close();
        await plain?.close();
      });

      it('adds a new provider slug that routes to its base_url', async () => {
        const body = JSON.stringify({ model: 'my-model', messages: MESSAGES });
        // Unknown to a gateway without the option ...
        const before = await postRaw(plain.url + CHAT, body, { authorization: `Bearer ${KEY}`, 'x-waygate-provider': 'my-llm' });
        await expectGatewayError(before, 400, 'unknown_provider', /"my-llm"/);
        expect(fake.requests).to.have.length(0);

        // ... and routed, with no custom host, by the one that has it.
        const res = await postRaw(gw.url + CHAT, body, { authorization: `Bearer ${KEY}`, 'x-waygate-provider': 'my-llm' });
        expect(res.status).to.equal(200);
        const answer = (await res.json()) as OpenAI.ChatCompletion;
        expect(answer.model).to.equal('my-model');
        expect(fake.requests).to.have.length(1);
        expect(fake.requests[0]!.path).to.equal(CHAT);
        expect(fake.requests[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
      });
    });
  });
});
