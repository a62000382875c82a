import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attempt } from '../src/attempt.js';
import { ErrorCode, GatewayError, isRetryableStatus } from '../src/errors.js';
import { kernelOwned } from '../src/testing/index.js';
import type { Kernel } from '../src/kernel.js';
import type { EndpointAdapter, EndpointDefinition } from '../src/contracts.js';
import type { ConfigNode } from '../src/types.js';
import type { RequestContext } from '../src/context.js';
import type { Reply, RequestInit } from './support/loopback.js';
import { CHAT, HANG, LOOP, Loopback, loopKernel, rejection, request } from './support/loopback.js';

describe('attempt: one upstream call', () => {
  let up: Loopback;
  const kernels: Kernel[] = [];
  before(async () => {
    up = await Loopback.start();
  });
  after(() => up.close());
  beforeEach(() => up.reset());
  afterEach(async () => {
    for (const k of kernels.splice(0)) await k.close();
  });

  function kernelWith(adapter: Partial<EndpointAdapter> = {}, endpoint?: EndpointDefinition): Kernel {
    const kernel = loopKernel(adapter, endpoint);
    kernels.push(kernel);
    return kernel;
  }

  /** One attempt at the leaf `a` (with `extra` on it), answered by `reply`. */
  async function once(
    reply: Reply,
    opts: {
      adapter?: Partial<EndpointAdapter>;
      endpoint?: EndpointDefinition;
      leaf?: Partial<ConfigNode>;
      init?: RequestInit;
      before?: (ctx: RequestContext) => void;
    } = {},
  ) {
    const kernel = kernelWith(opts.adapter, opts.endpoint);
    up.reply('a', reply);
    const ctx = request(up.leaf('a', opts.leaf), opts.init);
    opts.before?.(ctx);
    const target = kernel.plan(ctx).targets[0]!;
    return { ctx, run: () => attempt(kernel, ctx, target, kernel.endpointOf(ctx)) };
  }

  const json =
    (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
    (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };

  describe('upstream errors', () => {
    it("keeps an OpenAI-shaped error body as it is, with its code and param, and the upstream's status", async () => {
      const body = { error: { message: 'The model does not exist', type: 'invalid_request_error', code: 'model_not_found', param: 'model' } };
      const { run } = await once(json(404, body));
      const err = await rejection(run());
      expect(err).to.be.instanceOf(GatewayError);
      expect(err).to.include({ status: 404, code: ErrorCode.UPSTREAM_ERROR, message: 'The model does not exist', retryable: false });
      expect(err.toBody()).to.deep.equal(body);
      expect(err.upstream).to.deep.include({ status: 404, body });
    });

    it('extracts the message from other bodies, naming the provider: {message}, {error: string}, text, nothing', async () => {
      const cases: Array<[Reply, string]> = [
        [json(400, { message: 'bad temperature' }), 'loop: bad temperature'],
        [json(400, { error: 'quota gone' }), 'loop: quota gone'],
        [json(400, 'Service Unavailable: try later'), 'loop: Service Unavailable: try later'],
        [json(400, ''), 'loop: status 400'],
      ];
      for (const [reply, message] of cases) {
        const { run } = await once(reply);
        const err = await rejection(run());
        expect(err, message).to.include({ status: 400, code: ErrorCode.UPSTREAM_ERROR, message });
        expect((err.toBody() as any).error, "in OpenAI's shape").to.deep.include({ message, code: ErrorCode.UPSTREAM_ERROR });
      }
    });

    it('is retryable exactly when isRetryableStatus says so', async () => {
      for (const status of [400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504, 529]) {
        for (const body of [{ error: { message: 'openai-shaped' } }, { message: 'other' }]) {
          const { run } = await once(json(status, body));
          const err = await rejection(run());
          expect(err.retryable, `${status} ${JSON.stringify(body)}`).to.equal(isRetryableStatus(status));
        }
      }
    });

    it("uses the adapter's mapError when it answers, with the relayed headers by default", async () => {
      const seen: unknown[] = [];
      const { run } = await once(json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { 'retry-after': '3' }), {
        adapter: {
          mapError(status, body, headers) {
            seen.push(body, headers['retry-after']);
            return new GatewayError('overloaded', status, 'mapped', { retryable: true });
          },
        },
      });
      const err = await rejection(run());
      expect(err).to.include({ code: 'overloaded', status: 529, message: 'mapped' });
      expect(seen).to.deep.equal([{ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, '3']);
      expect(err.headers).to.deep.equal({ 'retry-after': '3' });
    });

    it("keeps the upstream's rate-limit headers on the error, and not its hop-by-hop ones", async () => {
      const { run } = await once(
        json(429, { error: { message: 'slow down' } }, { 'retry-after': '2', 'x-ratelimit-remaining-requests': '0', 'set-cookie': 'a=b' }),
      );
      const err = await rejection(run());
      expect(err.headers).to.deep.equal({ 'retry-after': '2', 'x-ratelimit-remaining-requests': '0' });
      expect(err.upstream?.headers?.['retry-after'], 'the raw headers stay on the upstream info').to.equal('2');
    });

    it('is a retryable 502 upstream_unreachable when nothing listens', async () => {
      const kernel = kernelWith();
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const ctx = request({ provider: LOOP, custom_host: `http://127.0.0.1:${port}/a` });
      const err = await rejection(attempt(kernel, ctx, kernel.plan(ctx).targets[0]!, kernel.endpointOf(ctx)));
      expect(err).to.include({ status: 502, code: ErrorCode.UPSTREAM_UNREACHABLE, retryable: true });
      expect(err.message).to.match(/Could not reach loop \(ECONNREFUSED\)/);
    });

    it('is a retryable 408 upstream_timeout when no answer comes within request_timeout', async () => {
      const { run, ctx } = await once(HANG, { leaf: { request_timeout: 20 } });
      const err = await rejection(run());
      expect(err).to.include({ status: 408, code: ErrorCode.UPSTREAM_TIMEOUT, retryable: true });
      expect(ctx.abortEmitter.listenerCount('abort'), 'the attempt lets go of the request').to.equal(0);
    });

    it('is a 400 naming the path when the provider does not serve the endpoint, and sends nothing', async () => {
      const { run } = await once(200, { init: { endpoint: 'embeddings' } });
      const err = await rejection(run());
      expect(err).to.include({ status: 400, code: ErrorCode.UNSUPPORTED_ENDPOINT, param: 'config.provider' });
      expect(up.hits).to.have.length(0);
    });
  });

  it('is a retryable 502 upstream_bad_response when a JSON answer is not JSON', async () => {
    const { run } = await once(json(200, '{"id": "c1", "choices": ['));
    const err = await rejection(run());
    expect(err).to.include({ status: 502, code: ErrorCode.UPSTREAM_BAD_RESPONSE, retryable: true });
    expect(err.upstream?.status).to.equal(200);
  });

  it("relays the upstream's own headers, not hop-by-hop or recomputed ones", async () => {
    const { run } = await once(
      json(
        200,
        { id: 'c1', choices: [] },
        { 'x-request-id': 'req-42', 'openai-processing-ms': '7', 'set-cookie': 'session=1', server: 'upstream/1.0', 'content-encoding': 'identity' },
      ),
    );
    const res = await run();
    expect(res.status).to.equal(200);
    // Node's server also sent date, connection, keep-alive and content-length.
    expect(res.headers).to.deep.equal({ 'x-request-id': 'req-42', 'openai-processing-ms': '7', 'content-type': 'application/json' });
  });

  it("copies the target's forward_headers from the request, and only those", async () => {
    const { run } = await once(200, {
      leaf: { forward_headers: ['X-Tenant-Id', 'x-absent'] },
      init: { headers: { 'x-tenant-id': 'tenant-7', 'x-other': 'not forwarded' } },
    });
    await run();
    const sent = up.hits[0]!.headers;
    expect(sent['x-tenant-id']).to.equal('tenant-7');
    expect(sent).to.not.have.property('x-other');
    expect(sent).to.not.have.property('x-absent');
  });

  it("prefers the request's forward-headers list to the target's", async () => {
    const { run } = await once(200, {
      leaf: { forward_headers: ['x-tenant-id'] },
      init: { headers: { 'x-tenant-id': 'tenant-7', 'x-trace': 't-1' } },
      before: (ctx) => (kernelOwned(ctx).forwardHeaders = ['x-trace']),
    });
    await run();
    expect(up.hits[0]!.headers['x-trace']).to.equal('t-1');
    expect(up.hits[0]!.headers).to.not.have.property('x-tenant-id');
  });

  it("merges the target's override_params into the body built, and then offers no client bytes", async () => {
    const client = { model: 'gpt-client', temperature: 1, messages: [{ role: 'user', content: 'hi' }] };
    const { run } = await once(200, {
      leaf: { override_params: { model: 'forced-model', max_tokens: 5 } },
      init: { body: client, rawBody: Buffer.from(JSON.stringify(client)) },
    });
    await run();
    expect(JSON.parse(up.hits[0]!.body)).to.deep.equal({ model: 'forced-model', temperature: 1, messages: client.messages, max_tokens: 5 });
  });

  it("offers the client's own bytes when nothing changes the body", async () => {
    const bytes = '{"model":"m",  "messages":[]}';
    const { run } = await once(200, { init: { body: JSON.parse(bytes), rawBody: Buffer.from(bytes) } });
    await run();
    expect(up.hits[0]!.body).to.equal(bytes);
  });

  it("awaits the adapter's prepare() before build(), on every attempt", async () => {
    let n = 0;
    const adapter: Partial<EndpointAdapter> = {
      async prepare(input) {
        await new Promise((resolve) => setImmediate(resolve));
        input.prepared = { token: `tok-${++n}` };
      },
      build: (input) => ({
        url: `${input.target.baseURL}/chat`,
        method: 'POST',
        headers: { authorization: `Bearer ${input.prepared!.token}` },
        body: '{}',
      }),
    };
    const kernel = kernelWith(adapter);
    for (let i = 0; i < 2; i++) {
      const ctx = request(up.leaf('a'));
      await attempt(kernel, ctx, kernel.plan(ctx).targets[0]!, kernel.endpointOf(ctx));
    }
    expect(up.hits.map((h) => h.headers.authorization)).to.deep.equal(['Bearer tok-1', 'Bearer tok-2']);
  });

  describe('usage', () => {
    const providerAnswer = { model: 'provider-model', usage: { prompt_tokens: 999, completion_tokens: 999 }, output: 'hello' };

    it("is read from the answer in the client's format, with the endpoint's reader", async () => {
      const custom: EndpointDefinition = {
        id: 'custom.chat',
        routes: [],
        usage: (j) => {
          const meta = (j as { meta?: { tokens: number; model: string } }).meta;
          return meta ? { usage: { total_tokens: meta.tokens }, model: meta.model } : undefined;
        },
      };
      const { run, ctx } = await once(json(200, providerAnswer), {
        endpoint: custom,
        init: { endpoint: 'custom.chat' },
        // The adapter translates the provider's answer into the client's format.
        adapter: { mapResponse: (j) => ({ text: (j as typeof providerAnswer).output, meta: { tokens: 7, model: 'client-model' } }) },
      });
      await run();
      expect(ctx.usage).to.deep.equal({ total_tokens: 7 });
      expect(ctx.model).to.equal('client-model');
    });

    it("is read from a pass-through answer as OpenAI's usage when the endpoint has no reader", async () => {
      const { run, ctx } = await once(json(200, providerAnswer));
      await run();
      expect(ctx.usage).to.deep.equal(providerAnswer.usage);
      expect(ctx.model).to.equal('provider-model');
    });
  });

  describe('the answer', () => {
    const bytes = '{"id":"m1",   "content":[{"type":"text","text":"hi"}],"extra":1.50}';

    it("keeps the upstream's bytes when there is no mapResponse", async () => {
      const { run } = await once(json(200, bytes));
      const res = await run();
      expect(Buffer.from(res.serialize()).toString()).to.equal(bytes);
      expect((res.body as any).id, 'and its parse').to.equal('m1');
    });

    it('keeps the bytes when mapResponse left the answer as it was, and serializes what it changed', async () => {
      // An adapter that translates only some models.
      const adapter: Partial<EndpointAdapter> = { mapResponse: (j, input) => (input.body?.model === 'translate' ? { translated: j } : j) };
      const asIs = await once(json(200, bytes), { adapter, init: { body: { model: 'as-is', messages: [] } } });
      expect(Buffer.from((await asIs.run()).serialize()).toString()).to.equal(bytes);
      const changed = await once(json(200, bytes), { adapter, init: { body: { model: 'translate', messages: [] } } });
      expect(JSON.parse(String((await changed.run()).serialize()))).to.deep.equal({ translated: JSON.parse(bytes) });
    });

    it('answers a stream request with JSON when the upstream did not stream', async () => {
      const { run } = await once(200, { init: { body: { model: 'm', stream: true, messages: [] } } });
      const res = await run();
      expect(res.isStream).to.equal(false);
      expect((res.body as any).object).to.equal('chat.completion');
    });
  });

  it('sends nothing upstream for a client that already left, with or without a request_timeout', async () => {
    for (const leaf of [{}, { request_timeout: 60_000 }]) {
      const { run } = await once(200, { leaf, before: (ctx) => ctx.abort(new Error('client left')) });
      const err = await rejection(run());
      expect(err, JSON.stringify(leaf)).to.include({ status: 499, code: ErrorCode.CLIENT_CLOSED });
    }
    expect(up.hits).to.have.length(0);
  });
});

// The chat endpoint the support kit registers is the default for these tests.
void CHAT;
