import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointRegistry } from '../src/endpoints.js';
import { NamedRegistry } from '../src/registry.js';
import { RequestContext } from '../src/context.js';
import { SelectTargetStage } from '../src/hooks.js';
import { GatewayError, badRequest, ErrorCode } from '../src/errors.js';
import { DONE } from '../src/sse.js';
import type { EndpointAdapter, EndpointDefinition, StreamFormat } from '../src/contracts.js';
import type { Kernel } from '../src/kernel.js';
import { newKernel, makeCtx, thrown } from '../src/testing/index.js';

const adapter = (tag: string): EndpointAdapter => ({ build: () => ({ url: `https://${tag}.example`, method: 'POST', headers: {} }) });

/**
 * A small OpenAI-style chat endpoint of the test's own (the core defines no endpoint, and its tests
 * load no plugin): `data: [DONE]` ends a stream, a `{"error":...}` event is an upstream error event.
 */
const CHAT_STREAM: StreamFormat = {
  isContent: () => true,
  isEnd: (ev) => ev.data === DONE,
  errorOf(ev, provider) {
    if (!ev.data.startsWith('{"error"')) return undefined;
    const message = (JSON.parse(ev.data) as { error?: { message?: string } }).error?.message ?? 'error event';
    return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `${provider} sent an error event: ${message}`, { retryable: true });
  },
  errorEvent: (err) => ({ data: JSON.stringify(err.toBody()) }),
};
const CHAT: EndpointDefinition = { id: 'chat.completions', routes: [{ method: 'POST', path: '/v1/chat/completions' }], stream: CHAT_STREAM };

/** A bare kernel with the test's chat endpoint registered. */
function chatKernel(): Kernel {
  const kernel = newKernel();
  kernel.apiFor('test-endpoints').register.endpoint(CHAT);
  return kernel;
}

describe('EndpointRegistry', () => {
  it('routes by path and method, and refuses a route served twice', () => {
    const reg = new EndpointRegistry();
    reg.register('plugin-a', { id: 'x', routes: [{ method: 'POST', path: '/v1/x' }] });
    expect(reg.route('/v1/x')?.get('POST')?.id).to.equal('x');
    expect(reg.route('/v1/y')).to.equal(undefined);
    expect(() => reg.register('plugin-a', { id: 'y', routes: [{ method: 'POST', path: '/v1/x' }] })).to.throw(/already served by x/);
    expect(() => reg.register('plugin-a', { id: 'x', routes: [] })).to.throw(/already registered by plugin-a/);
    reg.seal();
    expect(() => reg.register('plugin-a', { id: 'z', routes: [] })).to.throw(/sealed/);
  });

  it("serves an endpoint with the provider's own adapter, else through the endpoint's bridge, made once per provider", () => {
    const reg = new EndpointRegistry();
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
    reg.register('plugin-a', def);
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
    const reg = new NamedRegistry<number>('cache backend');
    reg.register('plugin-a', 'simple', 1, { replaceable: true });
    reg.register('plugin-b', 'simple', 2);
    expect(reg.get('simple')).to.equal(2);
    expect(reg.pluginOf('simple')).to.equal('plugin-b');
    expect(() => reg.register('plugin-b', 'simple', 3)).to.throw(/cache backend "simple" is already registered by plugin-b/);
    reg.seal();
    expect(() => reg.register('plugin-a', 'other', 4)).to.throw(/sealed/);
  });
});

describe('kernel: plan once, plugin config checks, adapter prepare()', () => {
  it('runs selectTarget once per request however many plugins ask for the plan', () => {
    const kernel = newKernel();
    let planned = 0;
    kernel
      .apiFor('t')
      .hooks.selectTarget.for('counted')
      .tap(SelectTargetStage.STRATEGY, (node, _ctx, expand) => {
        planned++;
        return (node.targets ?? []).flatMap((_, i) => expand(i));
      });
    const ctx = makeCtx(kernel, { strategy: { mode: 'counted' }, targets: [{ provider: 'alpha', api_key: 'k' }] });
    const a = kernel.plan(ctx);
    const b = kernel.apiFor('another-plugin').plan(ctx);
    expect(a).to.equal(b);
    expect(planned).to.equal(1);
  });

  it("runs every plugin's config check on every node, naming the path", () => {
    const kernel = newKernel();
    const api = kernel.apiFor('test-checks');
    api.hooks.selectTarget.for('fallback').tap(SelectTargetStage.STRATEGY, () => []);
    const seen: string[] = [];
    api.addConfigCheck((node, path) => {
      seen.push(path);
      if (node.shiny !== undefined) throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.shiny is not allowed`, `${path}.shiny`);
    });
    const config = { strategy: { mode: 'fallback' }, targets: [{ provider: 'alpha' }, { provider: 'beta', shiny: true }] };
    const err = thrown(() => kernel.checkConfig(config, 'config'));
    expect(err.status).to.equal(400);
    expect(err.param).to.equal('config.targets[1].shiny');
    expect(seen).to.deep.equal(['config', 'config.targets[0]', 'config.targets[1]']);
    kernel.seal();
    expect(() => api.addConfigCheck(() => undefined)).to.throw(/sealed/);
  });

  it('runs onSeal() callbacks once at the end of start-up, after every plugin registered; a throw stops start-up', () => {
    const kernel = newKernel();
    const api = kernel.apiFor('early');
    const order: string[] = [];
    api.onSeal(() => order.push(`seen ${kernel.registry('checks').names().join(',')}`));
    kernel.apiFor('late').registry('checks').register('late.check', { id: 'check', params: {}, run: () => ({ verdict: true }) });
    kernel.seal();
    expect(order).to.deep.equal(['seen late.check']);
    expect(() => api.onSeal(() => undefined)).to.throw(/sealed/);
    const failing = newKernel();
    failing.apiFor('failing').onSeal(() => {
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
      const kernel = chatKernel();
      let prepared = 0;
      kernel.apiFor('test-provider').register.provider({
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
      const kernel = chatKernel();
      kernel.apiFor('test-provider').register.provider({
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
        const ctx = new RequestContext({ id: 'r', endpoint: 'chat.completions', method: 'POST', path: '/v1/chat/completions', headers: { 'x-waygate-provider': 'some' }, body: { model, messages: [] } });
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
    kernel.apiFor('test-other').register.endpoint({ id: 'other', routes: [], errorBody: (e) => ({ type: 'error', error: { message: e.message } }) });
    const ctx = new RequestContext({ id: 'r', endpoint: 'other', method: 'POST', path: '/x', headers: {}, body: {} });
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
      const kernel = chatKernel();
      kernel.apiFor('test-provider').register.provider({
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
