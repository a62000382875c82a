import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, RequestContext, SSEEvent, Target } from '@waygate/core';
import plugin, { anthropic, toAnthropicRequest, AnthropicStreamTransformer } from '../src/index.js';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const TEXT_ANSWER = jsonFixture('text-answer');
const TOOL_ANSWER = jsonFixture('tool-answer');
const TEXT_STREAM = sseFixture('text-stream');
const TOOL_STREAM = sseFixture('tool-stream');
const OVERLOADED = jsonFixture('error-overloaded');
const INVALID = jsonFixture('error-invalid');

const chat = anthropic.endpoints['chat.completions']!;

function input(
  over: { body?: Record<string, unknown>; headers?: Record<string, string>; node?: Record<string, unknown>; apiKey?: string } = {},
): BuildInput {
  const target: Target = {
    provider: 'anthropic',
    apiKey: over.apiKey ?? 'sk-ant-1',
    baseURL: 'http://127.0.0.1:9/v1',
    node: { provider: 'anthropic', ...over.node },
    path: 'config',
  };
  const ctx = { headers: over.headers ?? {} } as unknown as RequestContext;
  return { ctx, target, body: over.body ?? { model: 'claude', messages: [{ role: 'user', content: 'hi' }] } };
}

/** Parses an SSE transcript as recorded (frames with `event:` and `data:` lines). */
function events(frames: string[]): SSEEvent[] {
  return frames.map((f) => {
    const ev: SSEEvent = { data: '' };
    for (const line of f.trim().split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) ev.data = line.slice(6);
    }
    return ev;
  });
}

function run(t: AnthropicStreamTransformer, evs: SSEEvent[]): SSEEvent[] {
  const out: SSEEvent[] = [];
  const push = (x: SSEEvent | SSEEvent[] | undefined) => (x === undefined ? undefined : Array.isArray(x) ? out.push(...x) : out.push(x));
  for (const ev of evs) push(t.transform(ev));
  push(t.flush());
  return out;
}

describe('@waygate/provider-anthropic', () => {
  it('has a manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/provider-anthropic', kind: 'provider', core: '^1.0.0', version: '1.0.0' });
    expect(anthropic).to.include({ id: 'anthropic', baseURL: 'https://api.anthropic.com/v1' });
  });

  describe('build', () => {
    it('posts to /messages with x-api-key, the default anthropic-version and the default max_tokens', () => {
      const req = chat.build(input());
      expect(req).to.include({ method: 'POST', url: 'http://127.0.0.1:9/v1/messages' });
      expect(req.headers).to.deep.equal({ 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-1' });
      expect(JSON.parse(req.body as string)).to.deep.equal({ model: 'claude', max_tokens: 4096, messages: [{ role: 'user', content: 'hi' }] });
    });

    it('takes anthropic-version, anthropic-beta and max_tokens_default from the config node, else from headers', () => {
      const fromNode = chat.build(
        input({ node: { anthropic_version: '2024-01-01', anthropic_beta: 'prompt-caching-2024-07-31', max_tokens_default: 1000 } }),
      );
      expect(fromNode.headers).to.include({ 'anthropic-version': '2024-01-01', 'anthropic-beta': 'prompt-caching-2024-07-31' });
      expect(JSON.parse(fromNode.body as string).max_tokens).to.equal(1000);
      const fromHeaders = chat.build(input({ headers: { 'x-portkey-anthropic-version': '2023-01-01', 'x-waygate-anthropic-beta': 'a,b' } }));
      expect(fromHeaders.headers).to.include({ 'anthropic-version': '2023-01-01', 'anthropic-beta': 'a,b' });
      expect(chat.build(input({ apiKey: '' })).headers).to.not.have.property('x-api-key');
    });

    it('translates system prompts, multi-part content, images, tool calls and merged tool results', () => {
      const out = toAnthropicRequest({
        model: 'claude',
        max_completion_tokens: 77,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
          {
            role: 'assistant',
            content: 'Looking.',
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '9C' }] },
          { role: 'user', content: 'Thanks' },
        ],
        stop: 'END',
        temperature: 0.5,
        top_p: 0.9,
        user: 'u-1',
      });
      expect(out).to.deep.equal({
        model: 'claude',
        max_tokens: 77,
        system: 'Be brief.\n\nUse metric units.',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Looking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
              { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Oslo' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '9C' }] },
            ],
          },
          { role: 'user', content: 'Thanks' },
        ],
        stop_sequences: ['END'],
        temperature: 0.5,
        top_p: 0.9,
        metadata: { user_id: 'u-1' },
      });
    });

    it('maps tools and tool_choice (auto, none, required, a named function, parallel_tool_calls: false)', () => {
      const base = { model: 'c', messages: [{ role: 'user', content: 'x' }], tools: [WEATHER_TOOL] };
      const tc = (extra: Record<string, unknown>) => toAnthropicRequest({ ...base, ...extra }).tool_choice;
      expect(toAnthropicRequest(base).tools).to.deep.equal([
        { name: 'get_weather', description: 'Weather for a city', input_schema: WEATHER_TOOL.function.parameters },
      ]);
      expect(tc({})).to.equal(undefined);
      expect(tc({ tool_choice: 'auto' })).to.deep.equal({ type: 'auto' });
      expect(tc({ tool_choice: 'none' })).to.deep.equal({ type: 'none' });
      expect(tc({ tool_choice: 'required' })).to.deep.equal({ type: 'any' });
      expect(tc({ tool_choice: { type: 'function', function: { name: 'get_weather' } } })).to.deep.equal({ type: 'tool', name: 'get_weather' });
      expect(tc({ parallel_tool_calls: false })).to.deep.equal({ type: 'auto', disable_parallel_tool_use: true });
      expect(tc({ tool_choice: 'required', parallel_tool_calls: false })).to.deep.equal({ type: 'any', disable_parallel_tool_use: true });
    });

    it('asks for JSON in the system prompt for response_format, and passes thinking through', () => {
      const out = toAnthropicRequest({
        model: 'c',
        messages: [
          { role: 'system', content: 'S' },
          { role: 'user', content: 'x' },
        ],
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { a: { type: 'number' } } } } },
        thinking: { type: 'enabled', budget_tokens: 1024 },
        stop: ['a', 'b'],
      });
      expect(out.system).to.match(/^S\n\nRespond only with a JSON value that conforms to this JSON schema/);
      expect(out.system).to.include('{"type":"object","properties":{"a":{"type":"number"}}}');
      expect(out.thinking).to.deep.equal({ type: 'enabled', budget_tokens: 1024 });
      expect(out.stop_sequences).to.deep.equal(['a', 'b']);
    });

    it('sends thinking blocks of an assistant turn back first, and rejects unsupported image URLs', () => {
      const block = { type: 'thinking', thinking: 't', signature: 'sig' };
      const out = toAnthropicRequest({
        model: 'c',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: 'y', thinking_blocks: [block] },
        ],
      });
      expect(out.messages[1].content).to.deep.equal([block, { type: 'text', text: 'y' }]);
      expect(() => toAnthropicRequest({ model: 'c', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }))
        .to.throw(GatewayError)
        .with.property('status', 400);
    });
  });

  describe('mapResponse', () => {
    it('maps a text answer, its finish reason and usage', () => {
      const out = chat.mapResponse!(TEXT_ANSWER, input()) as any;
      expect(out).to.include({ id: TEXT_ANSWER.id, object: 'chat.completion', model: TEXT_ANSWER.model });
      expect(out.choices[0]).to.deep.include({ index: 0, finish_reason: 'stop' });
      expect(out.choices[0].message).to.include({ role: 'assistant', content: 'Hello!' });
      expect(out.usage).to.include({ prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });
    });

    it('maps tool_use to tool_calls, keeps thinking, and counts cached tokens in the prompt', () => {
      const out = chat.mapResponse!(TOOL_ANSWER, input()) as any;
      const m = out.choices[0].message;
      expect(out.choices[0].finish_reason).to.equal('tool_calls');
      expect(m.content).to.equal('I will check both.');
      expect(m.tool_calls).to.deep.equal([
        { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'toolu_01B19q90qw90lq917835lq0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      ]);
      expect(m.reasoning_content).to.equal('The user wants two cities.');
      expect(m.thinking_blocks).to.deep.equal([TOOL_ANSWER.content[0]]);
      expect(out.usage).to.deep.include({ prompt_tokens: 420, completion_tokens: 40, total_tokens: 460, prompt_tokens_details: { cached_tokens: 300 } });
    });

    it('maps every stop reason', () => {
      const fr = (stop_reason: string) => (chat.mapResponse!({ ...TEXT_ANSWER, stop_reason }, input()) as any).choices[0].finish_reason;
      expect(['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal'].map(fr)).to.deep.equal([
        'stop',
        'stop',
        'length',
        'tool_calls',
        'content_filter',
      ]);
      expect((chat.mapResponse!({ ...TEXT_ANSWER, content: [] }, input()) as any).choices[0].message.content).to.equal(null);
    });
  });

  describe('stream transformer', () => {
    const streamInput = (includeUsage: boolean) =>
      input({ body: { model: 'c', messages: [], stream: true, stream_options: { include_usage: includeUsage } } });

    it('turns a text stream into a role chunk, content deltas, a finish chunk, a usage chunk and [DONE]', () => {
      const out = run(chat.createStreamTransformer!(streamInput(true)) as AnthropicStreamTransformer, events(TEXT_STREAM));
      expect(out.at(-1)!.data).to.equal('[DONE]');
      const chunks = out.slice(0, -1).map((e) => JSON.parse(e.data));
      for (const c of chunks)
        expect(c).to.include({ id: 'msg_014p7gG3wDgGV9EUtLvnow3U', object: 'chat.completion.chunk', model: 'claude-sonnet-4-5-20250929' });
      expect(chunks.map((c) => c.choices[0]?.delta)).to.deep.equal([
        { role: 'assistant', content: '' },
        { content: 'Hel' },
        { content: 'lo, wörld' },
        { content: '!' },
        {},
        undefined,
      ]);
      expect(chunks[4].choices[0].finish_reason).to.equal('stop');
      expect(chunks[5].choices).to.deep.equal([]);
      expect(chunks[5].usage).to.deep.include({ prompt_tokens: 27, completion_tokens: 4, total_tokens: 31, prompt_tokens_details: { cached_tokens: 8 } });
    });

    it('sends no usage chunk unless the request asked for it', () => {
      const out = run(chat.createStreamTransformer!(streamInput(false)) as AnthropicStreamTransformer, events(TEXT_STREAM));
      expect(out.some((e) => e.data.includes('"usage"'))).to.equal(false);
      expect(out.at(-1)!.data).to.equal('[DONE]');
    });

    it('streams thinking as reasoning_content, tool_use as tool_calls deltas, and the finished thinking block', () => {
      const out = run(chat.createStreamTransformer!(streamInput(true)) as AnthropicStreamTransformer, events(TOOL_STREAM));
      const deltas = out
        .slice(0, -1)
        .map((e) => JSON.parse(e.data).choices[0]?.delta)
        .filter(Boolean);
      expect(deltas).to.deep.equal([
        { role: 'assistant', content: '' },
        { reasoning_content: 'Paris, so ' },
        { reasoning_content: 'call the tool.' },
        { thinking_blocks: [{ type: 'thinking', thinking: 'Paris, so call the tool.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' }] },
        { content: 'Checking.' },
        { tool_calls: [{ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] },
        { tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] },
        {},
      ]);
      const fin = out.map((e) => (e.data === '[DONE]' ? undefined : JSON.parse(e.data))).find((c) => c?.choices[0]?.finish_reason);
      expect(fin.choices[0].finish_reason).to.equal('tool_calls');
    });

    it('turns an error event into an OpenAI-shaped error event, and a cut stream into an error at flush', () => {
      const t = chat.createStreamTransformer!(streamInput(false));
      t.transform(events([TEXT_STREAM[0]!])[0]!);
      const err = t.transform(events(sseFixture('overloaded-event'))[0]!) as SSEEvent;
      expect(JSON.parse(err.data)).to.deep.equal({ error: { message: 'Overloaded', type: 'overloaded_error', code: 'overloaded_error', param: null } });
      expect(t.flush!()).to.equal(undefined);
      const cut = chat.createStreamTransformer!(streamInput(false));
      cut.transform(events([TEXT_STREAM[0]!])[0]!);
      expect(JSON.parse((cut.flush!() as SSEEvent).data).error.code).to.equal('stream_interrupted');
      expect(chat.createStreamTransformer!(streamInput(false)).flush!()).to.equal(undefined);
    });
  });

  describe('mapError', () => {
    it('keeps status and message; overload, rate limit and server errors are retryable', () => {
      const e = chat.mapError!(529, OVERLOADED, {})!;
      expect(e).to.include({ status: 529, message: 'Overloaded', retryable: true, type: 'overloaded_error' });
      expect(chat.mapError!(400, INVALID, {})).to.include({ status: 400, retryable: false, message: 'max_tokens: Field required' });
      expect(chat.mapError!(503, 'upstream connect error', {})).to.include({ status: 503, retryable: true, message: 'upstream connect error' });
      expect(chat.mapError!(429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, {})!.retryable).to.equal(true);
    });
  });
});
