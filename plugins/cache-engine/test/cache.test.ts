import { expect } from 'chai';
import {
  cachePolicy,
  forceRefresh,
  cacheNamespace,
  setCacheStatus,
  targetIdentity,
  exactKey,
  cacheableEndpoint,
  canReplay,
  replay,
  recordAnswer,
  canonicalJson,
  configUsesCache,
  encodeAnswer,
  decodeAnswer,
  tapExactCache,
  DEFAULT_MAX_AGE_MS,
} from '../src/index.js';
import type { CachedAnswer, ExactCacheBackend } from '../src/index.js';
import { OPENAI_CHAT_CODEC, OPENAI_ENDPOINTS } from '@waygate/openai-api';
import { GatewayResponse, GatewayError, ErrorCode, RequestContext } from '@waygate/core';
import type { ConfigNode, EndpointDefinition, Kernel, PlannedTarget, SSEEvent, Target } from '@waygate/core';
import { newKernel, makeCtx } from '@waygate/core/testing';

const CHAT: Record<string, unknown> = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] };

function target(extra: Partial<Target> = {}, node: ConfigNode = {}): Target {
  return { provider: 'alpha', apiKey: 'sk-one', baseURL: 'https://alpha.example/v1', node: { provider: 'alpha', ...node }, path: 'config', ...extra };
}

/** A kernel with OpenAI's endpoints registered (a bare kernel has none), as the gateway loads them. */
function kernelWithOpenAI(): Kernel {
  const kernel = newKernel();
  const api = kernel.apiFor('test');
  for (const def of OPENAI_ENDPOINTS) api.register.endpoint(def);
  return kernel;
}

function ctxFor(
  _kernel: Kernel,
  body: Record<string, unknown> = CHAT,
  headers: Record<string, string> = {},
  endpoint = 'chat.completions',
): RequestContext {
  return new RequestContext({ id: 'r', endpoint, method: 'POST', path: '/v1/x', headers, body });
}

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
};

const chunk = (delta: unknown, finish: string | null = null): SSEEvent => ({
  data: JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  }),
});
const STREAM: SSEEvent[] = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Hi' }),
  chunk({ content: ' there' }),
  chunk({}, 'stop'),
  {
    data: JSON.stringify({
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    }),
  },
  { data: '[DONE]' },
];

async function* gen(events: SSEEvent[], onYield?: (i: number) => void): AsyncGenerator<SSEEvent> {
  for (let i = 0; i < events.length; i++) {
    onYield?.(i);
    yield events[i]!;
  }
}

async function drain(res: GatewayResponse): Promise<SSEEvent[]> {
  const out: SSEEvent[] = [];
  for await (const ev of res.stream!) out.push(ev);
  return out;
}

describe('core cache library', () => {
  const kernel = kernelWithOpenAI();
  /** The request's endpoint definition, as the kernel has it (what the cache plugins pass the engine). */
  const def = (ctx: RequestContext): EndpointDefinition | undefined => kernel.endpointOf(ctx);
  const replayed = (ctx: RequestContext, entry: CachedAnswer) => replay(ctx, entry, def(ctx));
  const replayable = (ctx: RequestContext, entry: CachedAnswer) => canReplay(ctx, entry, def(ctx));
  const record = (ctx: RequestContext, res: GatewayResponse, store: (e: CachedAnswer) => void, opts: { maxBytes?: number } = {}) =>
    recordAnswer(ctx, res, store, { ...opts, definition: def(ctx) });

  describe('cachePolicy', () => {
    it('is undefined without a cache config, and reads mode and max_age (ms) with a 24 h default', () => {
      expect(cachePolicy(target())).to.equal(undefined);
      expect(cachePolicy(target({}, { cache: { mode: 'simple' } }))).to.deep.equal({ mode: 'simple', maxAgeMs: DEFAULT_MAX_AGE_MS });
      expect(DEFAULT_MAX_AGE_MS).to.equal(24 * 3600 * 1000);
      expect(cachePolicy(target({}, { cache: { mode: 'semantic', max_age: 1500 } }))).to.deep.equal({ mode: 'semantic', maxAgeMs: 1500 });
      expect(cachePolicy(target({}, { cache: { mode: 'simple', max_age: 0.5 } }))!.maxAgeMs).to.equal(1);
    });
  });

  describe('request headers and the status header', () => {
    it('force refresh: either name, any value but false/0', () => {
      expect(forceRefresh(ctxFor(kernel))).to.equal(false);
      expect(forceRefresh(ctxFor(kernel, CHAT, { 'x-waygate-cache-force-refresh': 'true' }))).to.equal(true);
      expect(forceRefresh(ctxFor(kernel, CHAT, { 'x-portkey-cache-force-refresh': 'yes' }))).to.equal(true);
      expect(forceRefresh(ctxFor(kernel, CHAT, { 'x-portkey-cache-force-refresh': '' }))).to.equal(true);
      expect(forceRefresh(ctxFor(kernel, CHAT, { 'x-portkey-cache-force-refresh': 'false' }))).to.equal(false);
      expect(forceRefresh(ctxFor(kernel, CHAT, { 'x-waygate-cache-force-refresh': '0' }))).to.equal(false);
    });

    it('namespace: either name, trimmed, empty when absent', () => {
      expect(cacheNamespace(ctxFor(kernel))).to.equal('');
      expect(cacheNamespace(ctxFor(kernel, CHAT, { 'x-waygate-cache-namespace': ' team-a ' }))).to.equal('team-a');
      expect(cacheNamespace(ctxFor(kernel, CHAT, { 'x-portkey-cache-namespace': 'b' }))).to.equal('b');
    });

    it("sets Waygate's status header, Portkey's too in the Portkey dialect, and annotates the log line", () => {
      const a = ctxFor(kernel);
      setCacheStatus(a, 'HIT');
      expect(a.responseHeaders).to.deep.equal({ 'x-waygate-cache-status': 'HIT' });
      expect(a.annotations).to.deep.equal({ cache: 'HIT' });
      const b = ctxFor(kernel);
      // Stands in for the HTTP layer, which sets the dialect from the request's headers.
      (b as unknown as { dialect: 'portkey' }).dialect = 'portkey';
      setCacheStatus(b, 'SEMANTIC MISS');
      expect(b.responseHeaders).to.deep.equal({ 'x-waygate-cache-status': 'SEMANTIC MISS', 'x-portkey-cache-status': 'SEMANTIC MISS' });
      const c = ctxFor(kernel);
      setCacheStatus(c, 'DISABLED');
      expect(c.annotations, 'DISABLED is not worth a log field').to.equal(undefined);
    });
  });

  describe('keys', () => {
    const key = (t: Target = target(), body = CHAT, headers: Record<string, string> = {}, endpoint = 'chat.completions') =>
      exactKey(ctxFor(kernel, body, headers, endpoint), t);

    it('canonical JSON sorts keys at every depth', () => {
      expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: null }], c: undefined } })).to.equal('{"a":{"d":[2,{"x":null,"y":1}]},"b":1}');
      // Iterative: a value nested far deeper than the call stack allows is written, not a stack overflow.
      const n = 200_000;
      expect(canonicalJson(JSON.parse(`${'{"a":['.repeat(n)}1${']}'.repeat(n)}`))).to.equal(`${'{"a":['.repeat(n)}1${']}'.repeat(n)}`);
    });

    it('is a stable hex SHA-256, independent of key order and of stream, stream_options, user, metadata, store', () => {
      const k = key();
      expect(k).to.match(/^[0-9a-f]{64}$/);
      expect(key(target(), { messages: CHAT.messages, model: 'gpt-4o-mini' })).to.equal(k);
      expect(key(target(), { ...CHAT, stream: true, stream_options: { include_usage: true }, user: 'u1', metadata: { a: 1 }, store: true })).to.equal(k);
    });

    it('changes with anything that changes the answer: messages, parameters, endpoint, namespace', () => {
      const k = key();
      expect(key(target(), { ...CHAT, temperature: 0.2 })).to.not.equal(k);
      expect(key(target(), { ...CHAT, messages: [{ role: 'user', content: 'Hello!' }] })).to.not.equal(k);
      expect(key(target(), CHAT, {}, 'completions')).to.not.equal(k);
      expect(key(target(), CHAT, { 'x-waygate-cache-namespace': 'n1' })).to.not.equal(k);
    });

    it('isolates tenants: two API keys, two AWS credentials or two Azure resources never share', () => {
      const k = key();
      expect(key(target({ apiKey: 'sk-two' }))).to.not.equal(k);
      expect(key(target({ apiKey: undefined }))).to.not.equal(k);
      const aws1 = key(target(), CHAT, { 'x-portkey-aws-access-key-id': 'AKIA1', 'x-portkey-aws-secret-access-key': 's1' });
      const aws2 = key(target(), CHAT, { 'x-portkey-aws-access-key-id': 'AKIA1', 'x-portkey-aws-secret-access-key': 's2' });
      expect(aws1).to.not.equal(aws2);
      expect(aws1).to.not.equal(k);
      expect(key(target({}, { resource_name: 'r1' }))).to.not.equal(key(target({}, { resource_name: 'r2' })));
    });

    it('changes with the provider, the base URL and the model as sent (override_params applied)', () => {
      const k = key();
      expect(key(target({ provider: 'beta' }))).to.not.equal(k);
      expect(key(target({ baseURL: 'https://other.example/v1' }))).to.not.equal(k);
      expect(key(target(), { ...CHAT, model: 'gpt-4o' })).to.not.equal(k);
      const over = key(target({}, { override_params: { model: 'gpt-4o' } }));
      expect(over).to.not.equal(k);
      expect(over).to.equal(key(target(), { ...CHAT, model: 'gpt-4o' }), 'an override and the same value sent by the client are the same request');
    });

    it('ignores routing policy on the node (name, weight, retry, timeouts, cache)', () => {
      const k = key();
      expect(
        key(target({ path: 'config.targets[3]' }, { name: 'x', weight: 3, retry: { attempts: 2 }, request_timeout: 5, cache: { mode: 'simple' } })),
      ).to.equal(k);
    });

    it('targetIdentity hides the key itself', () => {
      const id = targetIdentity(ctxFor(kernel), target({ apiKey: 'sk-secret-123' }));
      expect(id).to.match(/^[0-9a-f]{64}$/);
      expect(id).to.not.include('sk-secret');
    });

    it('cacheable endpoints: chat, completions, embeddings, messages', () => {
      for (const e of ['chat.completions', 'completions', 'embeddings', 'messages']) expect(cacheableEndpoint(e), e).to.equal(true);
      for (const e of ['models', 'messages.count_tokens', 'files']) expect(cacheableEndpoint(e), e).to.equal(false);
    });

    it('configUsesCache finds a cache at any depth', () => {
      expect(configUsesCache({ provider: 'a' })).to.equal(false);
      expect(
        configUsesCache({
          strategy: { mode: 'fallback' },
          targets: [{ provider: 'a' }, { strategy: { mode: 'single' }, targets: [{ provider: 'b', cache: { mode: 'simple' } }] }],
        }),
      ).to.equal(true);
    });
  });

  describe('replay', () => {
    const jsonEntry: CachedAnswer = { endpoint: 'chat.completions', status: 200, headers: {}, body: completion, storedAt: 1 };
    const streamEntry: CachedAnswer = { endpoint: 'chat.completions', status: 200, headers: {}, events: STREAM, storedAt: 1 };

    it('a JSON entry to a JSON request: the body, source cache', () => {
      const res = replayed(ctxFor(kernel), jsonEntry);
      expect(res.source).to.equal('cache');
      expect(res.status).to.equal(200);
      expect(res.isStream).to.equal(false);
      expect(res.body).to.deep.equal(completion);
    });

    it('a JSON entry to a streaming request: SSE chunk for chunk as the codec makes it', async () => {
      const res = replayed(ctxFor(kernel, { ...CHAT, stream: true, stream_options: { include_usage: true } }), jsonEntry);
      expect(res.source).to.equal('cache');
      const events = await drain(res);
      expect(events).to.deep.equal(OPENAI_CHAT_CODEC.toEvents(completion));
      expect(events.at(-1)).to.deep.equal({ data: '[DONE]' });
      expect(OPENAI_CHAT_CODEC.fromEvents(events)).to.deep.equal(completion);
    });

    it('leaves the usage-only chunk out of a replayed OpenAI stream unless include_usage was asked', async () => {
      const events = await drain(replayed(ctxFor(kernel, { ...CHAT, stream: true }), jsonEntry));
      expect(events).to.deep.equal(OPENAI_CHAT_CODEC.toEvents(completion).filter((e) => !e.data.includes('"choices":[]')));
      expect(events.some((e) => e.data.includes('"usage"'))).to.equal(false);
    });

    it('a stream entry to a streaming request: the identical event sequence', async () => {
      const events = await drain(replayed(ctxFor(kernel, { ...CHAT, stream: true, stream_options: { include_usage: true } }), streamEntry));
      expect(events).to.deep.equal(STREAM);
    });

    it('a stream entry to a JSON request: the answer assembled with codec.fromEvents', () => {
      const res = replayed(ctxFor(kernel), streamEntry);
      expect(res.isStream).to.equal(false);
      const body = res.body as typeof completion;
      expect(body).to.deep.equal(OPENAI_CHAT_CODEC.fromEvents(STREAM));
      expect(body.choices[0]!.message.content).to.equal('Hi there');
      expect(body.usage).to.deep.equal({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    });

    it('canReplay: the same endpoint only, and no conversion without a codec', () => {
      expect(replayable(ctxFor(kernel), jsonEntry)).to.equal(true);
      expect(replayable(ctxFor(kernel, CHAT, {}, 'completions'), jsonEntry)).to.equal(false);
      const emb: CachedAnswer = { endpoint: 'embeddings', status: 200, headers: {}, events: [{ data: '{}' }], storedAt: 1 };
      expect(replayable(ctxFor(kernel, { model: 'e', input: 'x' }, {}, 'embeddings'), emb)).to.equal(false);
      expect(() => replayed(ctxFor(kernel, { model: 'e', input: 'x' }, {}, 'embeddings'), emb)).to.throw(/cannot be replayed as JSON/);
    });
  });

  describe('recordAnswer', () => {
    it('stores a 2xx upstream JSON answer at once', () => {
      const stored: CachedAnswer[] = [];
      const res = GatewayResponse.json(200, completion, { 'x-request-id': 'req_1' }, 'upstream');
      expect(record(ctxFor(kernel), res, (e) => stored.push(e))).to.equal(res);
      expect(stored).to.have.length(1);
      expect(stored[0]).to.include({ endpoint: 'chat.completions', status: 200 });
      expect(stored[0]!.body).to.deep.equal(completion);
      expect(stored[0]!.headers, 'per-call upstream headers are not kept').to.deep.equal({});
      expect(stored[0]!.storedAt).to.be.closeTo(Date.now(), 5000);
    });

    it('never stores errors, answers not from an upstream, or answers a guardrail marked failed', () => {
      const stored: CachedAnswer[] = [];
      const store = (e: CachedAnswer) => stored.push(e);
      record(ctxFor(kernel), GatewayResponse.json(500, { error: { message: 'x' } }, {}, 'upstream'), store);
      record(ctxFor(kernel), GatewayResponse.json(429, { error: { message: 'x' } }, {}, 'error'), store);
      record(ctxFor(kernel), GatewayResponse.json(200, completion, {}, 'cache'), store);
      record(ctxFor(kernel), GatewayResponse.json(200, completion, {}, '@waygate/guardrails'), store);
      record(ctxFor(kernel), GatewayResponse.json(246, completion, {}, 'upstream'), store);
      record(ctxFor(kernel), GatewayResponse.json(446, completion, {}, 'upstream'), store);
      expect(stored).to.deep.equal([]);
    });

    it('records a stream as it passes, without holding events back, and stores it once it ended properly', async () => {
      const stored: CachedAnswer[] = [];
      const produced: number[] = [];
      const ctx = ctxFor(kernel, { ...CHAT, stream: true });
      const res = record(
        ctx,
        GatewayResponse.sse(
          200,
          gen(STREAM, (i) => produced.push(i)),
          {},
          'upstream',
        ),
        (e) => stored.push(e),
      );
      const it = res.stream![Symbol.asyncIterator]();
      const first = await it.next();
      expect(first.value).to.deep.equal(STREAM[0]);
      expect(produced, 'the recorder pulled only the event it handed on').to.deep.equal([0]);
      expect(stored).to.deep.equal([]);
      const rest: SSEEvent[] = [first.value as SSEEvent];
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        rest.push(n.value);
      }
      expect(rest).to.deep.equal(STREAM);
      expect(stored).to.have.length(1);
      expect(stored[0]!.events).to.deep.equal(STREAM);
      expect(stored[0]!.body).to.equal(undefined);
    });

    it('does not store a stream the client left, one without its end event, one with an error event, or one marked failed', async () => {
      const stored: CachedAnswer[] = [];
      const store = (e: CachedAnswer) => stored.push(e);
      // The client went away after two events.
      const left = record(ctxFor(kernel, { ...CHAT, stream: true }), GatewayResponse.sse(200, gen(STREAM), {}, 'upstream'), store);
      const it = left.stream![Symbol.asyncIterator]();
      await it.next();
      await it.next();
      await it.return!(undefined);
      // No [DONE].
      await drain(record(ctxFor(kernel, { ...CHAT, stream: true }), GatewayResponse.sse(200, gen(STREAM.slice(0, -1)), {}, 'upstream'), store));
      // An error event mid-stream.
      const withError = [STREAM[0]!, STREAM[1]!, { data: JSON.stringify({ error: { message: 'boom' } }) }, STREAM[5]!];
      await drain(record(ctxFor(kernel, { ...CHAT, stream: true }), GatewayResponse.sse(200, gen(withError), {}, 'upstream'), store));
      // The kernel recorded a failure after the first byte.
      const failed = ctxFor(kernel, { ...CHAT, stream: true });
      failed.failStream(new GatewayError(ErrorCode.STREAM_INTERRUPTED, 502, 'cut'));
      await drain(record(failed, GatewayResponse.sse(200, gen(STREAM), {}, 'upstream'), store));
      // The source throws.
      async function* broken(): AsyncGenerator<SSEEvent> {
        yield STREAM[0]!;
        throw new Error('socket reset');
      }
      const b = record(ctxFor(kernel, { ...CHAT, stream: true }), GatewayResponse.sse(200, broken(), {}, 'upstream'), store);
      let threw = false;
      try {
        await drain(b);
      } catch {
        threw = true;
      }
      expect(threw).to.equal(true);
      expect(stored).to.deep.equal([]);
    });

    it('stops recording a stream larger than maxBytes, and still relays all of it', async () => {
      const stored: CachedAnswer[] = [];
      const res = record(ctxFor(kernel, { ...CHAT, stream: true }), GatewayResponse.sse(200, gen(STREAM), {}, 'upstream'), (e) => stored.push(e), {
        maxBytes: 200,
      });
      expect(await drain(res)).to.deep.equal(STREAM);
      expect(stored).to.deep.equal([]);
    });
  });

  describe('serialization', () => {
    it('round-trips JSON and stream entries in a compact form', () => {
      const a: CachedAnswer = { endpoint: 'chat.completions', status: 200, headers: {}, body: completion, storedAt: 42 };
      const b: CachedAnswer = {
        endpoint: 'messages',
        status: 200,
        headers: { 'x-a': '1' },
        events: [
          { event: 'message_start', data: '{}' },
          { data: 'x', id: '7' },
        ],
        storedAt: 43,
      };
      expect(decodeAnswer(encodeAnswer(a))).to.deep.equal({ ...a, bodyJson: JSON.stringify(completion) });
      expect(decodeAnswer(encodeAnswer(b))).to.deep.equal(b);
      expect(encodeAnswer(b)).to.not.include('"data"');
      const both: CachedAnswer = { ...a, events: STREAM };
      expect(decodeAnswer(encodeAnswer(both))).to.deep.equal({ ...both, bodyJson: JSON.stringify(completion) });
    });

    it('keeps the body as text: parsed only when read, and a JSON replay writes the stored bytes as they are', () => {
      const text = encodeAnswer({ endpoint: 'chat.completions', status: 200, headers: {}, body: completion, storedAt: 1 });
      const lines = text.split('\n');
      expect(lines).to.have.length(2);
      expect(lines[1]).to.equal(JSON.stringify(completion));
      const entry = decodeAnswer(text)!;
      expect(entry.bodyJson).to.equal(lines[1]);
      const res = replayed(ctxFor(kernel), entry);
      expect(Buffer.from(res.serialize() as Uint8Array).toString('utf8')).to.equal(lines[1]);
      expect(res.body).to.deep.equal(completion);
      expect({ ...entry }.body, 'a copy of the entry has the body').to.deep.equal(completion);
      entry.body = { replaced: true };
      expect(entry.bodyJson, 'a replaced body drops the stale text').to.equal(undefined);
      expect(decodeAnswer(encodeAnswer(entry))!.body).to.deep.equal({ replaced: true });
    });

    it('refuses text that is not an entry', () => {
      const meta = '{"v":1,"p":"x","s":200,"t":1';
      for (const t of [
        '',
        'nope',
        '{}\n1',
        '{"v":2,"p":"x","s":200,"t":1,"k":"b"}\n1',
        `${meta}}\n1`,
        `${meta},"k":"b"}`,
        `${meta},"k":"b"}\n`,
        `${meta},"k":"e"}\n[[1]]`,
        `${meta},"k":"e"}\n{`,
        `${meta},"k":"be"}\n1`,
      ]) {
        expect(decodeAnswer(t), t).to.equal(undefined);
      }
    });
  });

  describe('tapExactCache', () => {
    class MapBackend implements ExactCacheBackend {
      readonly map = new Map<string, { text: string; ttlMs: number }>();
      gets = 0;
      get(key: string): CachedAnswer | undefined {
        this.gets++;
        const v = this.map.get(key);
        return v ? decodeAnswer(v.text) : undefined;
      }
      set(key: string, entry: CachedAnswer, ttlMs: number): void {
        this.map.set(key, { text: encodeAnswer(entry), ttlMs });
      }
    }

    function setup(register = true): { kernel: Kernel; backend: MapBackend } {
      const kernel = kernelWithOpenAI();
      const backend = new MapBackend();
      const api = kernel.apiFor('test-cache');
      if (register) api.registry('caches').register('simple', backend, { replaceable: true });
      tapExactCache(api, backend);
      return { kernel, backend };
    }

    async function run(kernel: Kernel, config: ConfigNode, headers: Record<string, string> = {}, answer = completion) {
      const ctx = makeCtx(kernel, config, { headers, body: { ...CHAT } });
      const early = await kernel.hooks.beforeRequest.promise(ctx);
      let res = early;
      if (!res) {
        const plan = kernel.plan(ctx);
        // Stands in for the attempt loop, which sets the target it calls.
        (ctx as unknown as { target: PlannedTarget | undefined }).target = plan.targets[0];
        res = GatewayResponse.json(200, answer, {}, 'upstream');
      }
      res = await kernel.hooks.afterResponse.promise(res, ctx);
      return { ctx, res, early };
    }

    it('MISS then store, then HIT from the backend; DISABLED without a cache config', async () => {
      const { kernel, backend } = setup();
      const config = { provider: 'alpha', api_key: 'k', cache: { mode: 'simple' as const, max_age: 5000 } };
      const first = await run(kernel, config);
      expect(first.early).to.equal(undefined);
      expect(first.ctx.responseHeaders['x-waygate-cache-status']).to.equal('MISS');
      expect(backend.map.size).to.equal(1);
      expect([...backend.map.values()][0]!.ttlMs).to.equal(5000);
      const second = await run(kernel, config);
      expect(second.early?.source).to.equal('cache');
      expect(second.res.body).to.deep.equal(completion);
      expect(second.ctx.responseHeaders['x-waygate-cache-status']).to.equal('HIT');
      expect(second.ctx.target?.provider).to.equal('alpha');
      expect(backend.map.size).to.equal(1);
      const none = await run(kernel, { provider: 'alpha', api_key: 'k' });
      expect(none.ctx.responseHeaders['x-waygate-cache-status']).to.equal('DISABLED');
    });

    it('REFRESH skips the lookup and stores the new answer', async () => {
      const { kernel, backend } = setup();
      const config = { provider: 'alpha', api_key: 'k', cache: { mode: 'simple' as const } };
      await run(kernel, config);
      const gets = backend.gets;
      const fresh = { ...completion, id: 'chatcmpl-2' };
      const r = await run(kernel, config, { 'x-waygate-cache-force-refresh': 'true' }, fresh);
      expect(r.early).to.equal(undefined);
      expect(backend.gets).to.equal(gets);
      expect(r.ctx.responseHeaders['x-waygate-cache-status']).to.equal('REFRESH');
      const again = await run(kernel, config);
      expect((again.res.body as { id: string }).id).to.equal('chatcmpl-2');
    });

    it('leaves semantic-only policies alone, and does nothing while another backend is the registered `simple`', async () => {
      const { kernel, backend } = setup();
      const sem = await run(kernel, { provider: 'alpha', api_key: 'k', cache: { mode: 'semantic' } });
      expect(sem.ctx.responseHeaders['x-waygate-cache-status']).to.equal(undefined);
      expect(backend.map.size).to.equal(0);

      const other = setup(false);
      other.kernel.apiFor('other-cache').registry('caches').register('simple', new MapBackend());
      const r = await run(other.kernel, { provider: 'alpha', api_key: 'k', cache: { mode: 'simple' } });
      expect(r.ctx.responseHeaders['x-waygate-cache-status']).to.equal(undefined);
      expect(other.backend.map.size).to.equal(0);
    });

    it('an entry older than the policy max_age is a miss, whatever the backend kept', async () => {
      const { kernel, backend } = setup();
      const config = { provider: 'alpha', api_key: 'k', cache: { mode: 'simple' as const, max_age: 60_000 } };
      await run(kernel, config);
      const [key, v] = [...backend.map.entries()][0]!;
      const old = decodeAnswer(v.text)!;
      backend.map.set(key, { text: encodeAnswer({ ...old, storedAt: Date.now() - 61_000 }), ttlMs: v.ttlMs });
      const r = await run(kernel, config);
      expect(r.early).to.equal(undefined);
      expect(r.ctx.responseHeaders['x-waygate-cache-status']).to.equal('MISS');
    });

    it('a backend that throws is a miss, never a failed request', async () => {
      const kernel = kernelWithOpenAI();
      const backend: ExactCacheBackend = {
        get() {
          throw new Error('down');
        },
        set() {
          return Promise.reject(new Error('down'));
        },
      };
      const api = kernel.apiFor('x');
      api.registry('caches').register('simple', backend);
      tapExactCache(api, backend);
      const r = await run(kernel, { provider: 'alpha', api_key: 'k', cache: { mode: 'simple' } });
      expect(r.ctx.responseHeaders['x-waygate-cache-status']).to.equal('MISS');
      expect(r.res.body).to.deep.equal(completion);
    });
  });
});
