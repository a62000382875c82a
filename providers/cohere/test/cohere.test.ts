import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, RequestContext, SSEEvent, Target } from '@waygate/core';
import plugin, {
  cohere,
  toCohereChat,
  fromCohereChat,
  toCohereEmbed,
  fromCohereEmbed,
  mapCohereError,
  mapFinishReason,
  CohereStreamTransformer,
} from '../src/index.js';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const TEXT_ANSWER = jsonFixture('text-answer');
const TOOL_ANSWER = jsonFixture('tool-answer');
const TEXT_STREAM = sseFixture('text-stream');
const TOOL_STREAM = sseFixture('tool-stream');
const EMBED_ANSWER: { embeddings: { float: number[][] } } = jsonFixture('embed-answer');
const RATE_LIMITED = jsonFixture('error-rate-limited');

const chat = cohere.endpoints['chat.completions']!;
const embed = cohere.endpoints.embeddings!;

function input(
  over: { body?: Record<string, unknown>; headers?: Record<string, string>; node?: Record<string, unknown>; apiKey?: string } = {},
): BuildInput {
  const target: Target = {
    provider: 'cohere',
    apiKey: over.apiKey ?? 'co-key',
    baseURL: 'http://127.0.0.1:9/v2',
    node: { provider: 'cohere', ...over.node },
    path: 'config',
  };
  const ctx = { headers: over.headers ?? {} } as unknown as RequestContext;
  return { ctx, target, body: over.body ?? { model: 'command-a-03-2025', messages: [{ role: 'user', content: 'hi' }] } };
}

/** Parses SSE frames as recorded (`event:` and `data:` lines). */
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

function run(t: CohereStreamTransformer, evs: SSEEvent[]): SSEEvent[] {
  const out: SSEEvent[] = [];
  for (const ev of evs) {
    const r = t.transform(ev);
    if (r) out.push(...(Array.isArray(r) ? r : [r]));
  }
  const f = t.flush();
  if (f) out.push(...(Array.isArray(f) ? f : [f]));
  return out;
}

function is400(fn: () => unknown, param?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(GatewayError);
    expect((err as GatewayError).status).to.equal(400);
    if (param) expect((err as GatewayError).param).to.equal(param);
    return;
  }
  throw new Error('expected a 400');
}

describe('@waygate/provider-cohere', () => {
  it('has a manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/provider-cohere', kind: 'provider', core: '^1.0.0', version: '1.0.0' });
    expect(cohere.baseURL).to.equal('https://api.cohere.com/v2');
  });

  describe('request mapping', () => {
    it('builds POST {base}/chat with a bearer key', () => {
      const req = chat.build(input());
      expect(req.url).to.equal('http://127.0.0.1:9/v2/chat');
      expect(req.method).to.equal('POST');
      expect(req.headers).to.include({ authorization: 'Bearer co-key', 'content-type': 'application/json' });
    });

    it('maps sampling parameters, stop and token limits', () => {
      const out = toCohereChat({
        model: 'm',
        messages: [],
        temperature: 0.5,
        top_p: 0.8,
        top_k: 5,
        seed: 7,
        frequency_penalty: 0.1,
        presence_penalty: 0.2,
        stop: 'X',
        max_completion_tokens: 99,
      });
      expect(out).to.deep.equal({
        model: 'm',
        messages: [],
        max_tokens: 99,
        temperature: 0.5,
        p: 0.8,
        k: 5,
        seed: 7,
        frequency_penalty: 0.1,
        presence_penalty: 0.2,
        stop_sequences: ['X'],
      });
      expect(toCohereChat({ model: 'm', messages: [], stream: true, stream_options: { include_usage: true } })).to.deep.equal({
        model: 'm',
        messages: [],
        stream: true,
      });
    });

    it('maps roles, multi-part content and images', () => {
      const out = toCohereChat({
        model: 'm',
        messages: [
          { role: 'developer', content: [{ type: 'text', text: 'Sys' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is it?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA', detail: 'low' } },
            ],
          },
          { role: 'assistant', content: 'A cat.' },
        ],
      });
      expect(out.messages).to.deep.equal([
        { role: 'system', content: 'Sys' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is it?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA', detail: 'low' } },
          ],
        },
        { role: 'assistant', content: 'A cat.' },
      ]);
    });

    it('maps assistant tool calls (content as tool_plan) and tool results', () => {
      const out = toCohereChat({
        model: 'm',
        messages: [
          { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'ok' }] },
        ],
      });
      expect(out.messages).to.deep.equal([
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }], tool_plan: 'Checking.' },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ]);
    });

    it('maps tools and tool_choice', () => {
      expect(toCohereChat({ model: 'm', messages: [], tools: [WEATHER_TOOL], tool_choice: 'required' })).to.include({ tool_choice: 'REQUIRED' });
      expect(toCohereChat({ model: 'm', messages: [], tools: [WEATHER_TOOL], tool_choice: 'none' })).to.include({ tool_choice: 'NONE' });
      const auto = toCohereChat({ model: 'm', messages: [], tools: [WEATHER_TOOL], tool_choice: 'auto' });
      expect(auto).to.not.have.property('tool_choice');
      expect(auto.tools).to.deep.equal([WEATHER_TOOL]);
      const other = { type: 'function', function: { name: 'other', parameters: { type: 'object' } } };
      const named = toCohereChat({
        model: 'm',
        messages: [],
        tools: [WEATHER_TOOL, other],
        tool_choice: { type: 'function', function: { name: 'other' } },
      });
      expect(named.tools).to.deep.equal([other]);
      expect(named.tool_choice).to.equal('REQUIRED');
      is400(
        () => toCohereChat({ model: 'm', messages: [], tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'nope' } } }),
        'tool_choice',
      );
    });

    it('maps response_format json_object and json_schema', () => {
      expect(toCohereChat({ model: 'm', messages: [], response_format: { type: 'json_object' } }).response_format).to.deep.equal({ type: 'json_object' });
      const schema = { type: 'object', properties: { a: { type: 'string' } } };
      expect(
        toCohereChat({ model: 'm', messages: [], response_format: { type: 'json_schema', json_schema: { name: 's', schema } } }).response_format,
      ).to.deep.equal({
        type: 'json_object',
        json_schema: schema,
      });
      expect(toCohereChat({ model: 'm', messages: [], response_format: { type: 'text' } })).to.not.have.property('response_format');
    });

    it('rejects what Cohere cannot do with a 400', () => {
      is400(() => chat.build(input({ body: { model: 'm', messages: [{ role: 'function', content: 'x' }] } })), 'messages[0].role');
      is400(() => chat.build(input({ body: { model: 'm', messages: [], n: 2 } })), 'n');
      is400(() => chat.build(input({ body: { model: 'm', messages: [{ role: 'tool', content: 'x' }] } })));
      is400(() => chat.build(input({ body: { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] } })));
      is400(() => chat.build(input({ body: { model: 'm' } })), 'messages');
    });
  });

  describe('response mapping', () => {
    it('maps a text answer, usage from usage.tokens', () => {
      const out = fromCohereChat(TEXT_ANSWER, 'command-a');
      expect(out).to.include({ id: TEXT_ANSWER.id, object: 'chat.completion', model: 'command-a' });
      expect(out.choices[0]).to.deep.include({ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello!' } });
      expect(out.usage).to.deep.equal({ prompt_tokens: 215, completion_tokens: 3, total_tokens: 218 });
    });

    it('falls back to billed_units for usage', () => {
      const out = fromCohereChat({ ...TEXT_ANSWER, usage: { billed_units: { input_tokens: 9, output_tokens: 3 } } }, 'm');
      expect(out.usage).to.deep.equal({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
    });

    it('maps tool calls with content null', () => {
      const out = fromCohereChat(TOOL_ANSWER, 'm');
      expect(out.choices[0].finish_reason).to.equal('tool_calls');
      expect(out.choices[0].message.content).to.equal(null);
      expect(out.choices[0].message.tool_calls).to.deep.equal(TOOL_ANSWER.message.tool_calls);
    });

    it('maps finish reasons', () => {
      expect(['COMPLETE', 'MAX_TOKENS', 'STOP_SEQUENCE', 'TOOL_CALL', 'ERROR', undefined].map(mapFinishReason)).to.deep.equal([
        'stop',
        'length',
        'stop',
        'tool_calls',
        'stop',
        'stop',
      ]);
    });

    it('maps errors: message kept, 429 and 5xx retryable', () => {
      const rl = mapCohereError(429, RATE_LIMITED, {});
      expect(rl.status).to.equal(429);
      expect(rl.retryable).to.equal(true);
      expect(rl.message).to.equal(RATE_LIMITED.message);
      expect(mapCohereError(502, { message: 'bad gateway' }, {}).retryable).to.equal(true);
      expect(mapCohereError(400, { message: 'bad' }, {}).retryable).to.equal(false);
      expect(mapCohereError(500, 'oops', {}).message).to.equal('oops');
    });
  });

  describe('stream transformer', () => {
    it('turns the text stream into OpenAI chunks with usage and [DONE]', () => {
      const out = run(new CohereStreamTransformer('m', true), events(TEXT_STREAM));
      expect(out[out.length - 1]!.data).to.equal('[DONE]');
      const chunks = out.slice(0, -1).map((e) => JSON.parse(e.data));
      expect(chunks[0].choices[0].delta).to.deep.equal({ role: 'assistant', content: '' });
      expect(chunks[0].id).to.equal('29f14a5a-11de-4cae-9800-25e4747408ea');
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).to.equal('Hello, wörld!');
      expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).to.equal('stop');
      expect(chunks[chunks.length - 1].usage).to.deep.equal({ prompt_tokens: 215, completion_tokens: 4, total_tokens: 219 });
      expect(chunks[chunks.length - 1].choices).to.deep.equal([]);
    });

    it('leaves usage out unless stream_options.include_usage', () => {
      const out = run(new CohereStreamTransformer('m', false), events(TEXT_STREAM));
      expect(out.some((e) => e.data.includes('"usage"'))).to.equal(false);
      const t = chat.createStreamTransformer!(input({ body: { model: 'm', messages: [], stream: true, stream_options: { include_usage: true } } }));
      expect(run(t as CohereStreamTransformer, events(TEXT_STREAM)).some((e) => e.data.includes('"usage"'))).to.equal(true);
    });

    it('streams tool calls with ids, names and argument pieces; the tool plan is dropped', () => {
      const out = run(new CohereStreamTransformer('m', false), events(TOOL_STREAM));
      const chunks = out.slice(0, -1).map((e) => JSON.parse(e.data));
      const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
      expect(calls[0]).to.deep.equal({ index: 0, id: 'get_weather_nsz5zm3w56q3', type: 'function', function: { name: 'get_weather', arguments: '' } });
      expect(calls.map((c: any) => c.function.arguments).join('')).to.equal('{"city":"Paris"}');
      expect(out.some((e) => e.data.includes('I will check'))).to.equal(false);
      expect(chunks[chunks.length - 1].choices[0].finish_reason).to.equal('tool_calls');
    });

    it('numbers parallel tool calls by their order', () => {
      const f = (type: string, index: number, msg?: object) => ({
        event: type,
        data: JSON.stringify({ type, index, delta: msg ? { message: msg } : undefined }),
      });
      const out = run(new CohereStreamTransformer('m', false), [
        f('tool-call-start', 0, { tool_calls: { id: 'a', type: 'function', function: { name: 'f', arguments: '' } } }),
        f('tool-call-start', 1, { tool_calls: { id: 'b', type: 'function', function: { name: 'g', arguments: '' } } }),
        f('tool-call-delta', 1, { tool_calls: { function: { arguments: '{}' } } }),
        f('tool-call-delta', 0, { tool_calls: { function: { arguments: '[]' } } }),
        { event: 'message-end', data: JSON.stringify({ type: 'message-end', delta: { finish_reason: 'TOOL_CALL' } }) },
      ]);
      const calls = out.slice(0, -1).flatMap((e) => JSON.parse(e.data).choices[0]?.delta?.tool_calls ?? []);
      expect(calls.map((c: any) => [c.index, c.id, c.function.arguments])).to.deep.equal([
        [0, 'a', ''],
        [1, 'b', ''],
        [1, undefined, '{}'],
        [0, undefined, '[]'],
      ]);
      // the role chunk comes first even without message-start
      expect(JSON.parse(out[0]!.data).choices[0].delta.role).to.equal('assistant');
    });

    it('reports a stream that ended before message-end', () => {
      const t = new CohereStreamTransformer('m', false);
      for (const ev of events(TEXT_STREAM.slice(0, 3))) t.transform(ev);
      expect(() => t.flush()).to.throw(/before message-end/);
    });
  });

  describe('embeddings', () => {
    it('builds POST {base}/embed with texts, input_type and float embeddings', () => {
      const req = embed.build(input({ body: { model: 'embed-v4.0', input: 'hello', dimensions: 256 } }));
      expect(req.url).to.equal('http://127.0.0.1:9/v2/embed');
      expect(JSON.parse(req.body as string)).to.deep.equal({
        model: 'embed-v4.0',
        texts: ['hello'],
        input_type: 'search_document',
        embedding_types: ['float'],
        output_dimension: 256,
      });
    });

    it('takes input_type from the body, the config node or a header', () => {
      expect(toCohereEmbed({ model: 'm', input: ['a'], input_type: 'search_query' }).input_type).to.equal('search_query');
      expect(
        JSON.parse(embed.build(input({ body: { model: 'm', input: ['a'] }, node: { cohere_input_type: 'classification' } })).body as string).input_type,
      ).to.equal('classification');
      expect(
        JSON.parse(embed.build(input({ body: { model: 'm', input: ['a'] }, headers: { 'x-waygate-cohere-input-type': 'clustering' } })).body as string)
          .input_type,
      ).to.equal('clustering');
      is400(() => toCohereEmbed({ model: 'm', input: ['a'], input_type: 'bogus' }), 'input_type');
    });

    it('rejects token arrays and encodings other than float and base64', () => {
      is400(() => toCohereEmbed({ model: 'm', input: [[1, 2]] }), 'input');
      is400(() => toCohereEmbed({ model: 'm', input: 'a', encoding_format: 'int8' }), 'encoding_format');
    });

    it('answers encoding_format base64 (the openai SDK default) with float32 little-endian vectors, asking Cohere for floats', () => {
      const body = { model: 'embed-v4.0', input: ['hello', 'goodbye'], encoding_format: 'base64' };
      expect(toCohereEmbed(body).embedding_types).to.deep.equal(['float']);
      const out = embed.mapResponse!(EMBED_ANSWER, input({ body })) as any;
      const floats = (b64: string) => {
        const buf = Buffer.from(b64, 'base64');
        return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
      };
      expect(out.data.map((d: any) => typeof d.embedding)).to.deep.equal(['string', 'string']);
      expect(out.data.map((d: any) => floats(d.embedding))).to.deep.equal(EMBED_ANSWER.embeddings.float.map((v) => v.map(Math.fround)));
      expect(out.usage).to.deep.equal({ prompt_tokens: 2, total_tokens: 2 });
      expect(fromCohereEmbed(EMBED_ANSWER, 'm', 'float').data[0].embedding).to.deep.equal(EMBED_ANSWER.embeddings.float[0]);
    });

    it('maps the answer to OpenAI embeddings with usage from billed units', () => {
      const out = fromCohereEmbed(EMBED_ANSWER, 'embed-english-v3.0');
      expect(out.object).to.equal('list');
      expect(out.data).to.have.length(2);
      expect(out.data[1]).to.deep.equal({ object: 'embedding', index: 1, embedding: EMBED_ANSWER.embeddings.float[1] });
      expect(out.usage).to.deep.equal({ prompt_tokens: 2, total_tokens: 2 });
    });
  });
});
