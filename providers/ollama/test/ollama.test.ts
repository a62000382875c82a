// The Ollama adapter's pieces on their own: the server root from a custom host, the request mapping
// (images, tools and their results, options, format), the answers, the NDJSON decoder (lines cut
// anywhere, even inside a character) and the stream transformer.
import { expect } from 'chai';
import type { BuildInput, SSEEvent } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import {
  decodeNDJSON,
  fromOllamaChat,
  fromOllamaTags,
  mapOllamaError,
  OllamaStreamTransformer,
  rootOf,
  toOllamaChat,
  toOllamaEmbed,
  toOllamaGenerate,
} from '../src/index.js';
import { WEATHER_TOOL, jsonFixture } from './fixtures.js';

const target = (baseURL: string): BuildInput => ({
  ctx: { headers: {} } as never,
  target: { provider: 'ollama', baseURL, node: {}, path: 'config' },
  body: {},
});

async function collect(pieces: Array<string | Uint8Array>, limits?: { maxEventBytes: number }): Promise<string[]> {
  async function* body() {
    for (const p of pieces) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
  }
  const b = Object.assign(body(), limits ? { limits } : {});
  const out: string[] = [];
  for await (const ev of decodeNDJSON(b)) out.push(ev.data);
  return out;
}

describe('ollama: requests', () => {
  it('takes the server root from a custom host with or without /v1 or /api', () => {
    for (const h of [
      'http://localhost:11434',
      'http://localhost:11434/',
      'http://localhost:11434/v1',
      'http://localhost:11434/v1/',
      'http://localhost:11434/api',
    ]) {
      expect(rootOf(target(h)), h).to.equal('http://localhost:11434');
    }
    expect(rootOf(target('https://proxy.example/ollama'))).to.equal('https://proxy.example/ollama');
  });

  it('maps messages: developer as system, data-URI images, tool calls as objects, tool results named', () => {
    const out = toOllamaChat({
      model: 'llava',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'look', arguments: '{"zoom":2}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'a cat' },
      ],
      tools: [WEATHER_TOOL],
    });
    expect(out.messages).to.deep.equal([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is this?', images: ['iVBORw0KGgo='] },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'look', arguments: { zoom: 2 } } }] },
      { role: 'tool', content: 'a cat', tool_name: 'look' },
    ]);
    expect(out.tools).to.deep.equal([WEATHER_TOOL]);
    expect(out.stream).to.equal(false);
  });

  it("sends format from response_format (json, or the schema), and Ollama's own options over the mapped ones", () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    expect(toOllamaChat({ model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } }).format).to.equal('json');
    expect(
      toOllamaChat({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_schema', json_schema: { name: 's', schema } },
      }).format,
    ).to.deep.equal(schema);
    const out = toOllamaChat({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      temperature: 1,
      options: { temperature: 0.1, num_ctx: 8192 },
      think: true,
      stream: true,
    });
    expect(out.options).to.deep.equal({ temperature: 0.1, num_ctx: 8192 });
    expect(out.think).to.equal(true);
    expect(out.stream).to.equal(true);
  });

  it('tool_choice none drops the tools; required or a named tool is a 400 (Ollama cannot force one)', () => {
    expect(toOllamaChat({ model: 'm', messages: [{ role: 'user', content: 'x' }], tools: [WEATHER_TOOL], tool_choice: 'none' }).tools).to.equal(undefined);
    for (const choice of ['required', { type: 'function', function: { name: 'get_weather' } }]) {
      expect(
        thrown(() => toOllamaChat({ model: 'm', messages: [{ role: 'user', content: 'x' }], tools: [WEATHER_TOOL], tool_choice: choice })).param,
      ).to.equal('tool_choice');
    }
  });

  it('refuses what it cannot map: image URLs, n > 1, other roles, no model', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, 'messages[0].content[0]'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 3 }, 'n'],
      [{ model: 'm', messages: [{ role: 'function', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ];
    for (const [body, param] of cases) expect(thrown(() => toOllamaChat(body)).param, param).to.equal(param);
  });

  it('generate and embed bodies', () => {
    expect(toOllamaGenerate({ model: 'm', prompt: ['p'], system: 's', raw: true, stop: ['\n'] })).to.deep.equal({
      model: 'm',
      prompt: 'p',
      system: 's',
      raw: true,
      options: { stop: ['\n'] },
      stream: false,
    });
    expect(toOllamaEmbed({ model: 'e', input: 'x', dimensions: 256, truncate: false, keep_alive: 0 })).to.deep.equal({
      model: 'e',
      input: 'x',
      dimensions: 256,
      truncate: false,
      keep_alive: 0,
    });
    expect(thrown(() => toOllamaEmbed({ model: 'e', input: [1, 2] })).param).to.equal('input');
  });
});

describe('ollama: answers', () => {
  it('maps done_reason length, thinking as reasoning_content, and the counters as usage', () => {
    const out = fromOllamaChat(
      {
        model: 'qwen3',
        created_at: '2024-12-04T21:00:00Z',
        message: { role: 'assistant', content: 'Hi', thinking: 'Hmm.' },
        done: true,
        done_reason: 'length',
        prompt_eval_count: 3,
        eval_count: 7,
      },
      'qwen3',
    );
    expect(out.choices[0].finish_reason).to.equal('length');
    expect(out.choices[0].message).to.deep.equal({ role: 'assistant', content: 'Hi', reasoning_content: 'Hmm.' });
    expect(out.usage).to.deep.equal({ prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 });
    expect(out.created).to.equal(Date.parse('2024-12-04T21:00:00Z') / 1000);
  });

  it('an unfinished answer, or an error object on a 200, is a retryable 502', () => {
    expect(thrown(() => fromOllamaChat({ message: { content: 'x' }, done: false }, 'm')).status).to.equal(502);
    const err = thrown(() => fromOllamaChat({ error: 'model runner crashed' }, 'm'));
    expect(err.status).to.equal(502);
    expect(err.message).to.include('model runner crashed');
  });

  it('maps /api/tags to a model list', () => {
    const list = fromOllamaTags(jsonFixture('tags'));
    expect(list.data).to.deep.equal([
      { id: 'llama3.2:latest', object: 'model', created: Math.floor(Date.parse('2024-12-01T10:15:30.123456+01:00') / 1000), owned_by: 'ollama' },
      { id: 'all-minilm:latest', object: 'model', created: Date.parse('2024-11-20T08:00:00Z') / 1000, owned_by: 'ollama' },
    ]);
    expect(thrown(() => fromOllamaTags({})).status).to.equal(502);
  });

  it("errors keep the status and Ollama's message; 503 retryable, 404 not; retry-after kept", () => {
    const busy = mapOllamaError(503, jsonFixture('error-busy'), { 'retry-after': '2' });
    expect([busy.status, busy.retryable, busy.headers]).to.deep.equal([503, true, { 'retry-after': '2' }]);
    expect(busy.message).to.include('server busy');
    expect(mapOllamaError(404, jsonFixture('error-not-found'), {}).retryable).to.equal(false);
    expect(mapOllamaError(502, '', {}).message).to.equal('ollama: answered status 502');
  });
});

describe('ollama: the NDJSON decoder', () => {
  it('yields one event per line however the chunks cut (inside a UTF-8 character too), CRLF and a last line without newline', async () => {
    const text = '{"a":"wö"}\r\n\n{"b":2}\n{"c":3}';
    const bytes = new TextEncoder().encode(text);
    const single = [...bytes].map((b) => new Uint8Array([b]));
    expect(await collect(single)).to.deep.equal(['{"a":"wö"}', '{"b":2}', '{"c":3}']);
    expect(await collect([text])).to.deep.equal(['{"a":"wö"}', '{"b":2}', '{"c":3}']);
  });

  it('a line longer than upstream.maxEventBytes fails with a 502 naming the limit', async () => {
    let err: any;
    try {
      await collect(['{"a":"', 'x'.repeat(50), 'x'.repeat(50)], { maxEventBytes: 64 });
    } catch (e) {
      err = e;
    }
    expect(err?.status).to.equal(502);
    expect(err?.message).to.include('upstream.maxEventBytes');
  });
});

describe('ollama: the stream transformer', () => {
  const run = (t: OllamaStreamTransformer, datas: unknown[]): any[] =>
    datas
      .flatMap((d) => (t.transform({ data: JSON.stringify(d) }) as SSEEvent[] | undefined) ?? [])
      .map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));

  it('relays thinking as reasoning_content and ends on done with the finish reason', () => {
    const t = new OllamaStreamTransformer('chat', 'qwen3', false);
    const out = run(t, [
      { model: 'qwen3', message: { role: 'assistant', content: '', thinking: 'Hmm' }, done: false },
      { model: 'qwen3', message: { role: 'assistant', content: 'Hi' }, done: false },
      { model: 'qwen3', message: { role: 'assistant', content: '' }, done: true, done_reason: 'length', eval_count: 1 },
    ]);
    const deltas = out.filter((c) => c !== '[DONE]').map((c) => c.choices[0]);
    expect(deltas.map((d) => d.delta.reasoning_content ?? '').join('')).to.equal('Hmm');
    expect(deltas.map((d) => d.delta.content ?? '').join('')).to.equal('Hi');
    expect(deltas.at(-1).finish_reason).to.equal('length');
    expect(out.at(-1)).to.equal('[DONE]');
    expect(out.some((c) => c !== '[DONE]' && c.usage)).to.equal(false);
    expect(t.flush()).to.equal(undefined);
  });

  it('a stream without its done line fails at flush; an error line or a non-JSON line fails at once', () => {
    const t = new OllamaStreamTransformer('chat', 'm', false);
    run(t, [{ message: { content: 'Hi' }, done: false }]);
    expect(() => t.flush()).to.throw(/"done": true/);
    expect(thrown(() => new OllamaStreamTransformer('chat', 'm', false).transform({ data: '{"error":"boom"}' })).message).to.equal('ollama: boom');
    expect(thrown(() => new OllamaStreamTransformer('completion', 'm', false).transform({ data: 'nope' })).status).to.equal(502);
  });
});
