import { expect } from 'chai';
import { newKernel, use, makeCtx } from '@waygate/core/testing';
import { GatewayError, ErrorCode, BeforeRequestStage } from '@waygate/core';
import type { BuildInput, EndpointAdapter, PlannedTarget } from '@waygate/core';
import plugin, { bridgeToChat, estimateInputTokens, ESTIMATE_HEADER, ANTHROPIC_CODEC } from '../src/index.js';
import { WEATHER_TOOL } from './fixtures.js';

const target: PlannedTarget = { provider: 'alpha', apiKey: 'k', baseURL: 'https://alpha.example/v1', node: { provider: 'alpha' }, path: 'config' };

describe('@waygate/anthropic-messages: the bridge to chat.completions', () => {
  it("translates the request for the provider's chat adapter, and its answer back", async () => {
    const calls: string[] = [];
    const inner: EndpointAdapter = {
      async prepare(input) {
        calls.push('prepare');
        input.prepared = { token: 't-1' };
      },
      build(input) {
        calls.push('build');
        return {
          url: `${input.target.baseURL}/chat/completions`,
          method: 'POST',
          headers: { auth: String(input.prepared?.token) },
          body: JSON.stringify(input.body),
        };
      },
      mapResponse(json: any, input) {
        calls.push(`map:${input.body?.model}`);
        // A provider whose own shape is not OpenAI's: { text }.
        return { id: 'c', model: 'own', choices: [{ index: 0, message: { role: 'assistant', content: json.text }, finish_reason: 'stop' }] };
      },
      mapError: (status) => new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `inner ${status}`),
    };
    const bridged = bridgeToChat(inner);
    const kernel = newKernel();
    const ctx = makeCtx(kernel, { provider: 'alpha' });
    const input: BuildInput = {
      ctx,
      target,
      body: { model: 'm', max_tokens: 9, system: 'S', messages: [{ role: 'user', content: 'Hi' }], tools: [WEATHER_TOOL], tool_choice: { type: 'any' } },
      rawBody: new Uint8Array([1, 2, 3]),
    };
    await bridged.prepare!(input);
    const req = bridged.build(input);
    expect(req.headers).to.deep.equal({ auth: 't-1' }, 'prepare() and build() see the same translated input');
    expect(JSON.parse(String(req.body))).to.deep.equal({
      model: 'm',
      max_tokens: 9,
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'Hi' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.input_schema } }],
      tool_choice: 'required',
    });
    expect(input.body!.system, "the client's body is not changed").to.equal('S');
    const msg = bridged.mapResponse!({ text: 'Hello' }, input) as any;
    expect(msg).to.deep.include({ type: 'message', model: 'own', content: [{ type: 'text', text: 'Hello' }], stop_reason: 'end_turn' });
    expect(calls).to.deep.equal(['prepare', 'build', 'map:m']);
    expect(bridged.mapError!(503, {}, {})!.message).to.equal('inner 503');
  });

  it("relays an OpenAI-format answer when the provider maps nothing, and streams through the provider's transformer", () => {
    const inner: EndpointAdapter = {
      build: (input) => ({ url: 'u', method: 'POST', headers: {}, body: JSON.stringify(input.body) }),
      createStreamTransformer: (input) => {
        expect(input.body!.stream_options).to.deep.equal({ include_usage: true });
        return {
          transform: (ev) => ({ data: JSON.stringify({ id: 'z', choices: [{ index: 0, delta: { content: ev.data }, finish_reason: null }] }) }),
          flush: () => ({ data: '[DONE]' }),
        };
      },
      decodeStream: async function* () {
        yield { data: 'frame' };
      },
    };
    const bridged = bridgeToChat(inner);
    const input: BuildInput = { ctx: makeCtx(newKernel(), {}), target, body: { model: 'm', max_tokens: 1, messages: [], stream: true } };
    const msg = bridged.mapResponse!(
      { id: 'x', model: 'gpt', choices: [{ index: 0, message: { content: 'ok' }, finish_reason: 'length' }] },
      input,
    ) as any;
    expect(msg.stop_reason).to.equal('max_tokens');
    expect(bridged.decodeStream).to.be.a('function');
    const t = bridged.createStreamTransformer!(input);
    const out = [...(t.transform({ data: 'Hi' }) as any[]), ...((t.flush!() as any[]) ?? [])];
    expect((ANTHROPIC_CODEC.fromEvents(out) as any).content).to.deep.equal([{ type: 'text', text: 'Hi' }]);
    expect(out.at(-1).event).to.equal('message_stop');
  });

  it('registers both endpoints, with the bridge only on messages', async () => {
    const kernel = newKernel();
    await use(kernel, plugin, {});
    const messages = kernel.endpoints.get('messages')!;
    expect(messages.routes).to.deep.equal([{ method: 'POST', path: '/v1/messages' }]);
    expect(messages.bridge!.via).to.equal('chat.completions');
    expect(messages.stream && messages.codec && messages.errorBody && messages.usage).to.not.equal(undefined);
    const count = kernel.endpoints.get('messages.count_tokens')!;
    expect(count.routes).to.deep.equal([{ method: 'POST', path: '/v1/messages/count_tokens' }]);
    expect(count.bridge).to.equal(undefined);
    expect(count.stream).to.equal(undefined);
    expect(kernel.hooks.beforeRequest.taps.map((t) => [t.name, t.stage])).to.deep.equal([['@waygate/anthropic-messages', BeforeRequestStage.NORMAL]]);
    const off = newKernel();
    await use(off, plugin, { estimateTokenCount: false });
    expect(off.hooks.beforeRequest.taps).to.have.length(0);
    expect(() => plugin.configSchema!.parse({ nope: 1 })).to.throw();
  });
});

describe('@waygate/anthropic-messages: token count estimate', () => {
  it('counts characters / 4 over system, messages and tools, rounded up, plus a flat amount per image', () => {
    expect(estimateInputTokens({ messages: [{ role: 'user', content: 'abcd' }] })).to.equal(1);
    expect(estimateInputTokens({ messages: [{ role: 'user', content: 'abcde' }] })).to.equal(2);
    expect(estimateInputTokens({ system: [{ type: 'text', text: '12345678' }], messages: [] })).to.equal(2);
    const tool = { name: 'f', description: 'ddd', input_schema: { type: 'object' } }; // 1 + 3 + 17 chars
    expect(estimateInputTokens({ messages: [], tools: [tool] })).to.equal(Math.ceil(21 / 4));
    const blocks = {
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'x', name: 'get', input: { a: 1 } }] }, // 3 + 7
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'x', content: [{ type: 'text', text: 'ok' }] },
            { type: 'image', source: { type: 'url', url: 'u' } },
          ],
        }, // 2 + image
      ],
    };
    expect(estimateInputTokens(blocks)).to.equal(Math.ceil(12 / 4) + 1600);
    expect(estimateInputTokens(undefined)).to.equal(0);
  });

  it("answers count_tokens locally only when the first target's provider cannot count", async () => {
    const kernel = newKernel();
    kernel.apiFor('test').register.provider({
      id: 'counter',
      baseURL: 'https://c.example',
      endpoints: { 'messages.count_tokens': { build: () => ({ url: 'u', method: 'POST', headers: {} }) } },
    });
    await use(kernel, plugin, {});
    const tap = kernel.hooks.beforeRequest;
    const ctxFor = (
      provider: string,
      endpoint = 'messages.count_tokens',
      body: Record<string, unknown> = { model: 'm', messages: [{ role: 'user', content: 'Hello, world' }] },
    ) => {
      const ctx = makeCtx(kernel, { provider }, { body });
      (ctx as { endpoint: string }).endpoint = endpoint;
      return ctx;
    };
    const local = await tap.promise(ctxFor('alpha'));
    expect(local!.status).to.equal(200);
    expect(local!.body).to.deep.equal({ input_tokens: 3 });
    expect(local!.headers[ESTIMATE_HEADER]).to.equal('estimate');
    expect(await tap.promise(ctxFor('counter'))).to.equal(undefined);
    expect(await tap.promise(ctxFor('alpha', 'messages'))).to.equal(undefined);
    const err = await tap.promise(ctxFor('alpha', 'messages.count_tokens', { model: 'm' })).then(
      () => undefined,
      (e: GatewayError) => e,
    );
    expect(err!.status).to.equal(400);
  });
});
