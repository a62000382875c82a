import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointRegistry, OPENAI_CHAT_CODEC, OPENAI_COMPLETIONS_CODEC, OPENAI_STREAM } from '../src/endpoints.js';
import type { EndpointDefinition } from '../src/endpoints.js';
import { NamedRegistry } from '../src/registry.js';
import { checkNodes } from '../src/request-config.js';
import { RequestContext } from '../src/context.js';
import { GatewayError, badRequest, ErrorCode } from '../src/errors.js';
import type { EndpointAdapter, SSEEvent } from '../src/types.js';
import { newKernel, makeCtx, thrown } from '../src/testing/index.js';

const owner = { current: 'plugin-a' as string | undefined };
const adapter = (tag: string): EndpointAdapter => ({ build: () => ({ url: `https://${tag}.example`, method: 'POST', headers: {} }) });

describe('EndpointRegistry', () => {
  it('routes by path and method, and refuses a route served twice', () => {
    const reg = new EndpointRegistry(owner);
    reg.register({ id: 'x', routes: [{ method: 'POST', path: '/v1/x' }] });
    expect(reg.route('/v1/x')?.get('POST')?.id).to.equal('x');
    expect(reg.route('/v1/y')).to.equal(undefined);
    expect(() => reg.register({ id: 'y', routes: [{ method: 'POST', path: '/v1/x' }] })).to.throw(/already served by x/);
    expect(() => reg.register({ id: 'x', routes: [] })).to.throw(/already registered by plugin-a/);
    reg.seal();
    expect(() => reg.register({ id: 'z', routes: [] })).to.throw(/sealed/);
  });

  it("serves an endpoint with the provider's own adapter, else through the endpoint's bridge, made once per provider", () => {
    const reg = new EndpointRegistry(owner);
    let wraps = 0;
    const def: EndpointDefinition = {
      id: 'msgs',
      routes: [],
      bridge: {
        via: 'chat.completions',
        wrap(inner, provider) {
          wraps++;
          return { build: (input) => ({ ...inner.build(input), headers: { bridged: provider } }) };
        },
      },
    };
    reg.register(def);
    const own = adapter('own');
    const withOwn = { id: 'p1', endpoints: { msgs: own, 'chat.completions': adapter('chat') } };
    expect(reg.adapterFor(withOwn, 'msgs')).to.equal(own);
    const chatOnly = { id: 'p2', endpoints: { 'chat.completions': adapter('chat') } };
    const bridged = reg.adapterFor(chatOnly, 'msgs')!;
    expect(bridged.build({} as never).headers).to.deep.equal({ bridged: 'p2' });
    expect(reg.adapterFor(chatOnly, 'msgs')).to.equal(bridged);
    expect(wraps).to.equal(1);
    expect(reg.adapterFor({ id: 'p3', endpoints: {} }, 'msgs'), 'no via endpoint, no bridge').to.equal(undefined);
    expect(reg.adapterFor({ id: 'p3', endpoints: {} }, 'unknown')).to.equal(undefined);
  });
});

describe('NamedRegistry', () => {
  it('names both plugins when a name is registered twice, unless the first was a replaceable default', () => {
    const reg = new NamedRegistry<number>('cache backend', owner);
    reg.register('simple', 1, { replaceable: true });
    owner.current = 'plugin-b';
    reg.register('simple', 2);
    expect(reg.get('simple')).to.equal(2);
    expect(reg.pluginOf('simple')).to.equal('plugin-b');
    expect(() => reg.register('simple', 3)).to.throw(/cache backend "simple" is already registered by plugin-b/);
    owner.current = 'plugin-a';
    reg.seal();
    expect(() => reg.register('other', 4)).to.throw(/sealed/);
  });
});

describe('OpenAI stream format', () => {
  it("treats the role-only opening chunk as a preamble and anything else as content", () => {
    const chunk = (delta: object, finish: string | null = null) => ({ data: JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] }) });
    expect(OPENAI_STREAM.isContent(chunk({ role: 'assistant', content: '' }))).to.equal(false);
    expect(OPENAI_STREAM.isContent(chunk({ role: 'assistant', content: 'Hi' }))).to.equal(true);
    expect(OPENAI_STREAM.isContent(chunk({ role: 'assistant' }, 'stop'))).to.equal(true);
    expect(OPENAI_STREAM.isEnd({ data: '[DONE]' })).to.equal(true);
  });

  it('recognises error events and writes its own terminal error event', () => {
    const err = OPENAI_STREAM.errorOf({ data: '{"error":{"message":"overloaded"}}' }, 'acme');
    expect(err?.message).to.match(/acme sent an error event: overloaded/);
    expect(err?.retryable).to.equal(true);
    expect(OPENAI_STREAM.errorOf({ data: '{"choices":[]}' }, 'acme')).to.equal(undefined);
    const ev = OPENAI_STREAM.errorEvent(new GatewayError('stream_interrupted', 502, 'cut'));
    expect(JSON.parse(ev.data).error.code).to.equal('stream_interrupted');
  });

  it('reads usage only from chunks that carry it', () => {
    expect(OPENAI_STREAM.usage!({ data: '{"choices":[{"delta":{"content":"usage"}}]}' })).to.equal(undefined);
    expect(OPENAI_STREAM.usage!({ data: '{"model":"m","choices":[],"usage":{"prompt_tokens":3}}' })).to.deep.equal({ usage: { prompt_tokens: 3 }, model: 'm' });
  });
});

describe('OpenAI codecs', () => {
  const completion = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1700000000,
    model: 'gpt-x',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Let me check.',
          refusal: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
            { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };

  it('turns a chat completion into the chunk stream OpenAI would send, and back', () => {
    const events = OPENAI_CHAT_CODEC.toEvents(completion);
    expect(events.at(-1)!.data).to.equal('[DONE]');
    const first = JSON.parse(events[0]!.data);
    expect(first.object).to.equal('chat.completion.chunk');
    expect(first.choices[0].delta).to.deep.equal({ role: 'assistant', content: '' });
    expect(OPENAI_CHAT_CODEC.fromEvents(events)).to.deep.equal(completion);
  });

  it('assembles streamed tool-call fragments and text', () => {
    const ev = (o: object): SSEEvent => ({ data: JSON.stringify({ id: 'c', created: 1, model: 'm', choices: [{ index: 0, ...o }] }) });
    const events = [
      ev({ delta: { role: 'assistant', content: '' } }),
      ev({ delta: { content: 'He' } }),
      ev({ delta: { content: 'llo' } }),
      ev({ delta: { tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a"' } }] } }),
      ev({ delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }),
      ev({ delta: {}, finish_reason: 'tool_calls' }),
      { data: '[DONE]' },
    ];
    const json = OPENAI_CHAT_CODEC.fromEvents(events) as any;
    expect(json.choices[0].message.content).to.equal('Hello');
    expect(json.choices[0].message.tool_calls).to.deep.equal([{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
    expect(json.choices[0].finish_reason).to.equal('tool_calls');
  });

  it('round-trips a legacy completion', () => {
    const c = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text: 'hi there', finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } };
    expect(OPENAI_COMPLETIONS_CODEC.fromEvents(OPENAI_COMPLETIONS_CODEC.toEvents(c))).to.deep.equal(c);
  });
});

describe('kernel: plan once, plugin config checks, adapter prepare()', () => {
  it('runs selectTarget once per request however many plugins ask for the plan', async () => {
    const kernel = newKernel();
    let planned = 0;
    kernel.hooks.selectTarget.tapPromise({ name: 't', stage: -1 }, async (ctx) => {
      planned++;
      return { targets: kernel.strategies.plan(ctx) };
    });
    const ctx = makeCtx(kernel, { provider: 'alpha', api_key: 'k' });
    const a = await kernel.plan(ctx);
    const b = await kernel.plan(ctx);
    expect(a).to.equal(b);
    expect(planned).to.equal(1);
  });

  it("runs every plugin's config check on every node, naming the path", () => {
    const kernel = newKernel();
    kernel.strategies.register({ mode: 'fallback', plan: () => [] });
    const seen: string[] = [];
    kernel.addConfigCheck((node, path) => {
      seen.push(path);
      if (node.shiny !== undefined) throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.shiny is not allowed`, `${path}.shiny`);
    });
    const config = { strategy: { mode: 'fallback' }, targets: [{ provider: 'alpha' }, { provider: 'beta', shiny: true }] };
    const err = thrown(() => checkNodes({ kernel }, config, 'config'));
    expect(err.status).to.equal(400);
    expect(err.param).to.equal('config.targets[1].shiny');
    expect(seen).to.deep.equal(['config', 'config.targets[0]', 'config.targets[1]']);
    kernel.seal();
    expect(() => kernel.addConfigCheck(() => undefined)).to.throw(/sealed/);
  });

  it('runs onSeal() callbacks once at the end of start-up, after every plugin registered; a throw stops start-up', () => {
    const kernel = newKernel();
    const order: string[] = [];
    kernel.onSeal(() => order.push(`seen ${kernel.registries.checks.names().join(',')}`));
    kernel.registries.checks.register('late.check', { id: 'check', params: {} as never, run: () => ({ verdict: true }) });
    kernel.seal();
    expect(order).to.deep.equal(['seen late.check']);
    expect(() => kernel.onSeal(() => undefined)).to.throw(/sealed/);
    const failing = newKernel();
    failing.onSeal(() => {
      throw new Error('bad option');
    });
    expect(() => failing.seal()).to.throw(/bad option/);
    expect(failing.sealed).to.equal(false);
  });

  it("awaits an adapter's prepare() before build() on every attempt", async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"c","choices":[]}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const kernel = newKernel();
      let prepared = 0;
      kernel.providers.register({
        id: 'tokened',
        baseURL: url,
        endpoints: {
          'chat.completions': {
            async prepare(input) {
              await new Promise((r) => setTimeout(r, 5));
              input.prepared = { token: `tok-${++prepared}` };
            },
            build: (input) => ({ url: `${input.target.baseURL}/chat`, method: 'POST', headers: { authorization: `Bearer ${input.prepared!.token}` }, body: '{}' }),
          },
        },
      });
      for (let i = 0; i < 2; i++) {
        const ctx = new RequestContext({
          id: `r${i}`,
          endpoint: 'chat.completions',
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'x-waygate-provider': 'tokened' },
          body: { model: 'm', messages: [] },
          kernel,
        });
        const res = await kernel.handle(ctx);
        expect(res.status).to.equal(200);
      }
      expect(seen).to.deep.equal(['Bearer tok-1', 'Bearer tok-2']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("keeps the upstream's bytes when an adapter's mapResponse leaves the answer as it was", async () => {
    const bytes = '{"id":"m1",   "content":[{"type":"text","text":"hi"}],"extra":1.50}';
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(bytes);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const kernel = newKernel();
      kernel.providers.register({
        id: 'some',
        baseURL: url,
        endpoints: {
          'chat.completions': {
            build: (input) => ({ url: `${input.target.baseURL}/x`, method: 'POST', headers: {}, body: '{}' }),
            // Translates only some models; this one is left as it came.
            mapResponse: (json, input) => (input.body?.model === 'translate' ? { translated: json } : json),
          },
        },
      });
      const run = async (model: string) => {
        const ctx = new RequestContext({ id: 'r', endpoint: 'chat.completions', method: 'POST', path: '/v1/chat/completions', headers: { 'x-waygate-provider': 'some' }, body: { model, messages: [] }, kernel });
        return kernel.handle(ctx);
      };
      expect(String((await run('as-is')).serialize())).to.equal(bytes);
      expect(JSON.parse(String((await run('translate')).serialize())).translated.id).to.equal('m1');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("shapes error answers the way the request's endpoint says", async () => {
    const kernel = newKernel();
    kernel.endpoints.register({ id: 'other', routes: [], errorBody: (e) => ({ type: 'error', error: { message: e.message } }) });
    const ctx = new RequestContext({ id: 'r', endpoint: 'other', method: 'POST', path: '/x', headers: {}, body: {}, kernel });
    const res = await kernel.handle(ctx);
    expect(res.status).to.equal(400);
    expect((res.body as any).type).to.equal('error');
    expect((res.body as any).error.message).to.match(/No provider or config/);
  });

  it("records an error event a stream transformer emits from flush() as the stream's failure", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"text":"Hel"}\n\ndata: {"text":"lo"}\n\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const kernel = newKernel();
      kernel.providers.register({
        id: 'cutter',
        baseURL: url,
        endpoints: {
          'chat.completions': {
            build: (input) => ({ url: `${input.target.baseURL}/chat`, method: 'POST', headers: {}, body: '{}' }),
            createStreamTransformer: () => ({
              transform: (ev) => ({ data: JSON.stringify({ choices: [{ index: 0, delta: { content: JSON.parse(ev.data).text } }] }) }),
              // The upstream closed without its end event: the transformer reports it from flush().
              flush: () => ({ data: JSON.stringify({ error: { message: 'stream ended before its finish' } }) }),
            }),
          },
        },
      });
      const ctx = new RequestContext({
        id: 'r',
        endpoint: 'chat.completions',
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'x-waygate-provider': 'cutter' },
        body: { model: 'm', stream: true, messages: [] },
        kernel,
      });
      const res = await kernel.handle(ctx);
      const seen: string[] = [];
      for await (const ev of res.stream!) seen.push(ev.data);
      expect(seen).to.have.length(3);
      expect(JSON.parse(seen[2]!).error.message).to.equal('stream ended before its finish');
      expect(ctx.streamError?.code).to.equal('stream_interrupted');
      expect(ctx.streamError?.message).to.match(/stream ended before its finish/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
