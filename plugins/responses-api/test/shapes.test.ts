// What the bridge emits, field by field against OpenAI's Responses spec (the zod schemas of ./spec.ts):
// a real gateway, POST /v1/responses (JSON and stream: true, also one byte at a time) bridged to two
// loopback upstreams, an OpenAI-format chat one (Together AI's slug) and an Anthropic Messages one:
// text, function calls, a failure mid-stream, a stream cut short, an answer cut by max tokens, a JSON
// answer, a refusal, reasoning; every Response and every event checked, and the sequence rules; then
// the stored response and its input items (GET /v1/responses/{id}, /input_items with paging).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { checkStream, check, ItemList, Response } from './spec.js';
import { responseEvents, toResponse } from '../src/index.js';

type Body = Record<string, any>;
interface Answer {
  status?: number;
  json?: unknown;
  frames?: string[];
}

/** A loopback upstream: records each request body and answers what `answer` says (SSE one byte at a time when `bytewise`). */
class Upstream {
  readonly seen: Body[] = [];
  answer: (body: Body) => Answer = () => ({ status: 500, json: { error: { message: 'no answer set' } } });
  bytewise = false;
  url = '';
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
      this.seen.push(body);
      const a = this.answer(body);
      if (!a.frames) return void res.writeHead(a.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(a.json));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const bytes = Buffer.from(a.frames.join(''));
      if (!this.bytewise) return void res.end(bytes);
      let i = 0;
      const next = (): void => {
        if (res.destroyed) return;
        if (i === bytes.length) return void res.end();
        res.write(bytes.subarray(i, ++i));
        setImmediate(next);
      };
      next();
    });
  });
  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

// OpenAI chat.completions wire format (API reference: the chat completion object and chunk object).
const CREATED = 1730000000;
const oaUsage = {
  prompt_tokens: 12,
  completion_tokens: 5,
  total_tokens: 17,
  prompt_tokens_details: { cached_tokens: 3 },
  completion_tokens_details: { reasoning_tokens: 0 },
};
const oaJSON = (message: Body, finish: string, usage: Body = oaUsage) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: CREATED,
  model: 'llama-x',
  choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish }],
  usage,
});
const oaChunk = (delta: Body, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: CREATED, model: 'llama-x', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const oaUsageChunk = `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: CREATED, model: 'llama-x', choices: [], usage: oaUsage })}\n\n`;
const oaDone = 'data: [DONE]\n\n';
const oaStream = (...middle: string[]) => [oaChunk({ role: 'assistant', content: '' }), ...middle, oaUsageChunk, oaDone];

// Anthropic Messages wire format (API reference: messages, streaming messages).
const anUsage = { input_tokens: 9, output_tokens: 5, cache_read_input_tokens: 4, cache_creation_input_tokens: 2 };
const anJSON = (content: Body[], stop: string) => ({
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-x',
  content,
  stop_reason: stop,
  stop_sequence: null,
  usage: anUsage,
});
const anFrame = (type: string, data: Body = {}) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const anStart = anFrame('message_start', {
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { ...anUsage, output_tokens: 1 },
  },
});
const anBlock = (index: number, block: Body, deltas: Body[]) => [
  anFrame('content_block_start', { index, content_block: block }),
  anFrame('ping'),
  ...deltas.map((delta) => anFrame('content_block_delta', { index, delta })),
  anFrame('content_block_stop', { index }),
];
const anEnd = (stop: string) => [
  anFrame('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } }),
  anFrame('message_stop'),
];
const textDeltas = (...parts: string[]) => parts.map((text) => ({ type: 'text_delta', text }));

const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const TIME = { type: 'function', name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } }, strict: false };
const CITY_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

/** What one case asks, and how each upstream answers it (JSON and stream); `expect` checks the meaning on top of the shapes. */
interface Case {
  name: string;
  request: Body;
  openai?: { json: Answer; stream: Answer };
  anthropic?: { json: Answer; stream: Answer };
  expect(r: Body, upstream: 'openai' | 'anthropic'): void;
}

const outputText = (r: Body): string =>
  r.output
    .filter((o: Body) => o.type === 'message')
    .flatMap((o: Body) => o.content)
    .filter((c: Body) => c.type === 'output_text')
    .map((c: Body) => c.text)
    .join('');

const CASES: Case[] = [
  {
    name: 'a text answer, with every echoed setting',
    request: { input: 'Hi', instructions: 'Be brief.', temperature: 0.5, top_p: 0.9, metadata: { team: 'a' }, user: 'user-1', max_output_tokens: 200 },
    openai: {
      json: { json: oaJSON({ content: 'Hello there.' }, 'stop') },
      stream: { frames: oaStream(oaChunk({ content: 'Hello' }), oaChunk({ content: ' there.' }), oaChunk({}, 'stop')) },
    },
    anthropic: {
      json: { json: anJSON([{ type: 'text', text: 'Hello there.' }], 'end_turn') },
      stream: { frames: [anStart, ...anBlock(0, { type: 'text', text: '' }, textDeltas('Hello', ' there.')), ...anEnd('end_turn')] },
    },
    expect(r, upstream) {
      expect(r).to.deep.include({ status: 'completed', instructions: 'Be brief.', temperature: 0.5, top_p: 0.9, user: 'user-1', max_output_tokens: 200 });
      expect(r.metadata).to.deep.equal({ team: 'a' });
      expect(outputText(r)).to.equal('Hello there.');
      expect(r.output).to.have.length(1);
      expect(r.usage).to.deep.equal(
        upstream === 'openai'
          ? {
              input_tokens: 12,
              input_tokens_details: { cached_tokens: 3, cache_write_tokens: 0 },
              output_tokens: 5,
              output_tokens_details: { reasoning_tokens: 0 },
              total_tokens: 17,
            }
          : {
              input_tokens: 15,
              input_tokens_details: { cached_tokens: 4, cache_write_tokens: 2 },
              output_tokens: 5,
              output_tokens_details: { reasoning_tokens: 0 },
              total_tokens: 20,
            },
      );
    },
  },
  {
    name: 'function calls (text first on Anthropic, two in parallel on OpenAI)',
    request: { input: 'Weather and time in Oslo?', tools: [WEATHER, TIME], tool_choice: 'auto', parallel_tool_calls: true },
    openai: {
      json: {
        json: oaJSON(
          {
            content: null,
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
              { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } },
            ],
          },
          'tool_calls',
        ),
      },
      stream: {
        frames: oaStream(
          oaChunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
          oaChunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
          oaChunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
          oaChunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
          oaChunk({ tool_calls: [{ index: 1, function: { arguments: '{"zone":"CET"}' } }] }),
          oaChunk({}, 'tool_calls'),
        ),
      },
    },
    anthropic: {
      json: {
        json: anJSON(
          [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
          ],
          'tool_use',
        ),
      },
      stream: {
        frames: [
          anStart,
          ...anBlock(0, { type: 'text', text: '' }, textDeltas('Let me', ' look.')),
          ...anBlock(1, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }, [
            { type: 'input_json_delta', partial_json: '{"city":' },
            { type: 'input_json_delta', partial_json: '"Oslo"}' },
          ]),
          ...anEnd('tool_use'),
        ],
      },
    },
    expect(r, upstream) {
      expect(r.status).to.equal('completed');
      expect(r.tools).to.deep.equal([
        { ...WEATHER, strict: null },
        { ...TIME, strict: false },
      ]);
      const calls = r.output.filter((o: Body) => o.type === 'function_call');
      if (upstream === 'openai') {
        expect(calls.map((c: Body) => [c.call_id, c.name, JSON.parse(c.arguments)])).to.deep.equal([
          ['call_a', 'get_weather', { city: 'Oslo' }],
          ['call_b', 'get_time', { zone: 'CET' }],
        ]);
      } else {
        expect(r.output[0].type).to.equal('message');
        expect(outputText(r)).to.equal('Let me look.');
        expect(calls.map((c: Body) => [c.call_id, c.name, JSON.parse(c.arguments)])).to.deep.equal([['toolu_1', 'get_weather', { city: 'Oslo' }]]);
      }
      for (const c of calls) expect(c.status).to.equal('completed');
    },
  },
  {
    name: 'an answer cut by max_output_tokens',
    request: { input: 'Tell me a story', max_output_tokens: 5 },
    openai: {
      json: { json: oaJSON({ content: 'Once upon a' }, 'length') },
      stream: { frames: oaStream(oaChunk({ content: 'Once upon' }), oaChunk({ content: ' a' }), oaChunk({}, 'length')) },
    },
    anthropic: {
      json: { json: anJSON([{ type: 'text', text: 'Once upon a' }], 'max_tokens') },
      stream: { frames: [anStart, ...anBlock(0, { type: 'text', text: '' }, textDeltas('Once upon', ' a')), ...anEnd('max_tokens')] },
    },
    expect(r) {
      expect(r).to.deep.include({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 5, completed_at: null });
      expect(outputText(r)).to.equal('Once upon a');
      expect(r.output[0].status).to.equal('incomplete');
    },
  },
  {
    name: 'a JSON answer (text.format json_schema)',
    request: { input: 'Where?', text: { format: { type: 'json_schema', name: 'place', schema: CITY_SCHEMA, strict: true } } },
    openai: {
      json: { json: oaJSON({ content: '{"city":"Oslo"}' }, 'stop') },
      stream: { frames: oaStream(oaChunk({ content: '{"city":' }), oaChunk({ content: '"Oslo"}' }), oaChunk({}, 'stop')) },
    },
    anthropic: {
      json: { json: anJSON([{ type: 'text', text: '{"city":"Oslo"}' }], 'end_turn') },
      stream: { frames: [anStart, ...anBlock(0, { type: 'text', text: '' }, textDeltas('{"city":', '"Oslo"}')), ...anEnd('end_turn')] },
    },
    expect(r) {
      expect(r.text).to.deep.equal({ format: { type: 'json_schema', name: 'place', schema: CITY_SCHEMA, strict: true } });
      expect(JSON.parse(outputText(r))).to.deep.equal({ city: 'Oslo' });
    },
  },
  {
    name: 'a refusal (OpenAI chat refusal → a refusal part)',
    request: { input: 'Something bad' },
    openai: {
      json: { json: oaJSON({ content: null, refusal: "I can't help with that." }, 'stop') },
      stream: { frames: oaStream(oaChunk({ refusal: "I can't" }), oaChunk({ refusal: ' help with that.' }), oaChunk({}, 'stop')) },
    },
    expect(r) {
      expect(r.output).to.have.length(1);
      expect(r.output[0].content).to.deep.equal([{ type: 'refusal', refusal: "I can't help with that." }]);
    },
  },
  {
    name: 'reasoning (Anthropic thinking → a reasoning item)',
    request: { input: 'Think first', reasoning: { effort: 'low' } },
    anthropic: {
      json: {
        json: anJSON(
          [
            { type: 'thinking', thinking: 'Two and two.', signature: 'sig' },
            { type: 'text', text: 'Four.' },
          ],
          'end_turn',
        ),
      },
      stream: {
        frames: [
          anStart,
          ...anBlock(0, { type: 'thinking', thinking: '', signature: '' }, [
            { type: 'thinking_delta', thinking: 'Two and' },
            { type: 'thinking_delta', thinking: ' two.' },
            { type: 'signature_delta', signature: 'sig' },
          ]),
          ...anBlock(1, { type: 'text', text: '' }, textDeltas('Four.')),
          ...anEnd('end_turn'),
        ],
      },
    },
    expect(r) {
      expect(r.reasoning).to.deep.equal({ effort: 'low', summary: null });
      expect(r.output.map((o: Body) => o.type)).to.deep.equal(['reasoning', 'message']);
      expect(r.output[0]).to.deep.include({ summary: [], content: [{ type: 'reasoning_text', text: 'Two and two.' }] });
      expect(outputText(r)).to.equal('Four.');
    },
  },
];

/** Reads an SSE body into events (`event:` and `data:` lines; comments and other fields skipped). */
function parseSSE(text: string): { event?: string; data: string }[] {
  const out: { event?: string; data: string }[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let ev: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) ev = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) out.push({ ...(ev !== undefined ? { event: ev } : {}), data: data.join('\n') });
  }
  return out;
}

describe('@waygate/responses-api: what the bridge emits, field by field against the Responses spec', function () {
  this.timeout(20_000);
  let gw: Gateway;
  const up = { openai: new Upstream(), anthropic: new Upstream() };
  const quiet = new Writable({ write: (_c, _e, done) => done() });

  before(async () => {
    await up.openai.start();
    await up.anthropic.start();
    gw = await startGateway({
      config: { plugins: [{ module: '@waygate/responses-api', options: { store: { path: ':memory:' } } }] },
      port: 0,
      logger: createLogger({ level: 'error', destination: quiet }),
      env: {},
    });
  });
  after(async () => {
    await gw?.close(0);
    await up.openai.close();
    await up.anthropic.close();
  });

  const headers = (upstream: 'openai' | 'anthropic'): Record<string, string> => ({
    'content-type': 'application/json',
    authorization: 'Bearer sk-test-123',
    'x-waygate-provider': upstream === 'openai' ? 'together-ai' : 'anthropic',
    'x-waygate-custom-host': `${up[upstream].url}/v1`,
  });
  const post = (upstream: 'openai' | 'anthropic', body: Body) =>
    fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: headers(upstream), body: JSON.stringify({ model: 'm-1', ...body }) });
  const get = (upstream: 'openai' | 'anthropic', path: string) => fetch(`${gw.url}/v1/responses/${path}`, { headers: headers(upstream) });
  const stream = async (upstream: 'openai' | 'anthropic', body: Body) => {
    const res = await post(upstream, { ...body, stream: true });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    return checkStream(parseSSE(await res.text()));
  };

  for (const c of CASES) {
    for (const upstream of ['openai', 'anthropic'] as const) {
      const script = c[upstream];
      if (!script) continue;
      describe(`${c.name}, from ${upstream === 'openai' ? 'an OpenAI-format chat upstream' : 'an Anthropic upstream'}`, () => {
        it('JSON: a Response as the spec has it', async () => {
          up[upstream].answer = () => script.json;
          const res = await post(upstream, c.request);
          expect(res.status).to.equal(200);
          const r = check(Response, await res.json(), 'the Response');
          expect(r.id).to.match(/^resp_/);
          c.expect(r, upstream);
        });
        for (const bytewise of [false, true]) {
          it(`stream${bytewise ? ', one byte at a time' : ''}: every event as the spec has it, in order`, async () => {
            up[upstream].answer = () => script.stream;
            up[upstream].bytewise = bytewise;
            try {
              const { final, terminal } = await stream(upstream, c.request);
              expect(terminal).to.equal(final!.status === 'incomplete' ? 'response.incomplete' : 'response.completed');
              c.expect(final!, upstream);
            } finally {
              up[upstream].bytewise = false;
            }
          });
        }
      });
    }
  }

  describe('failures', () => {
    it('an OpenAI-format error chunk mid-stream ends with response.failed, the open item closed incomplete', async () => {
      up.openai.answer = () => ({
        frames: [
          oaChunk({ role: 'assistant', content: '' }),
          oaChunk({ content: 'Hel' }),
          `data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', code: null } })}\n\n`,
        ],
      });
      const { final, terminal } = await stream('openai', { input: 'Hi' });
      expect(terminal).to.equal('response.failed');
      expect(final!.error).to.deep.equal({ code: 'server_error', message: 'The server had an error' });
      expect(final!.output[0]).to.deep.include({ type: 'message', status: 'incomplete' });
    });

    it('an Anthropic error event mid-stream (overloaded) ends with response.failed and a code the spec allows', async () => {
      up.anthropic.answer = () => ({
        frames: [
          anStart,
          anFrame('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
          anFrame('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
          anFrame('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
        ],
      });
      const { final, terminal } = await stream('anthropic', { input: 'Hi' });
      expect(terminal).to.equal('response.failed');
      expect(final!.error).to.deep.equal({ code: 'server_error', message: 'Overloaded' });
    });

    it('an Anthropic rate limit error event mid-stream keeps its meaning (rate_limit_exceeded)', async () => {
      up.anthropic.answer = () => ({
        frames: [
          anStart,
          ...anBlock(0, { type: 'text', text: '' }, textDeltas('Hel')),
          anFrame('error', { error: { type: 'rate_limit_error', message: 'Slow down' } }),
        ],
      });
      const { final } = await stream('anthropic', { input: 'Hi' });
      expect(final!.error).to.deep.equal({ code: 'rate_limit_exceeded', message: 'Slow down' });
    });

    it('an OpenAI-format stream cut after content ends with an error event numbered in sequence', async () => {
      up.openai.answer = () => ({ frames: [oaChunk({ role: 'assistant', content: '' }), oaChunk({ content: 'Hel' }), oaChunk({ content: 'lo' })] });
      const { events, terminal } = await stream('openai', { input: 'Hi' });
      expect(terminal).to.equal('error');
      expect(events.at(-1)).to.deep.include({ type: 'error', code: 'stream_interrupted', param: null });
    });

    it('an OpenAI Responses stream passed through and cut short ends with the core’s error event, numbered after the last', async () => {
      const sse = (type: string, seq: number, rest: Body) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq, ...rest })}\n\n`;
      up.openai.answer = () => ({
        frames: [
          sse('response.created', 0, { response: { id: 'resp_1', object: 'response', status: 'in_progress' } }),
          sse('response.in_progress', 1, { response: { id: 'resp_1', object: 'response', status: 'in_progress' } }),
          sse('response.output_text.delta', 2, { item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hel', logprobs: [] }),
        ],
      });
      const res = await fetch(`${gw.url}/v1/responses`, {
        method: 'POST',
        headers: { ...headers('openai'), 'x-waygate-provider': 'openai' },
        body: JSON.stringify({ model: 'gpt-4o-mini', input: 'Hi', stream: true }),
      });
      const events = parseSSE(await res.text()).map((e) => JSON.parse(e.data) as { type: string; sequence_number: number; code?: string });
      expect(events.map((e) => e.type)).to.deep.equal(['response.created', 'response.in_progress', 'response.output_text.delta', 'error']);
      expect(events.at(-1)).to.deep.include({ sequence_number: 3, code: 'stream_interrupted' });
    });

    it('an event that is not JSON after content ends the stream with an error event numbered in sequence', async () => {
      up.openai.answer = () => ({ frames: [oaChunk({ role: 'assistant', content: '' }), oaChunk({ content: 'Hel' }), 'data: {"choices": [\n\n'] });
      const { events, terminal } = await stream('openai', { input: 'Hi' });
      expect(terminal).to.equal('error');
      expect((events.at(-1) as { message: string }).message).to.match(/not JSON/);
    });

    it('a stream cut before any content is a failed attempt (a 502 error answer), not a stream', async () => {
      up.openai.answer = () => ({ frames: [oaChunk({ role: 'assistant', content: '' })] });
      const res = await post('openai', { input: 'Hi', stream: true });
      expect(res.status).to.equal(502);
      expect(((await res.json()) as Body).error.message).to.match(/before its proper end/);
    });

    it('an Anthropic stream cut after content ends with response.failed', async () => {
      up.anthropic.answer = () => ({
        frames: [
          anStart,
          anFrame('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
          anFrame('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
        ],
      });
      const { final, terminal } = await stream('anthropic', { input: 'Hi' });
      expect(terminal).to.equal('response.failed');
      expect(final!.error!.code).to.equal('server_error');
    });

    it('an upstream 429 before the stream is an OpenAI-shaped error answer, not a stream', async () => {
      up.openai.answer = () => ({
        status: 429,
        json: { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
      });
      const res = await post('openai', { input: 'Hi', stream: true });
      expect(res.status).to.equal(429);
      const body = (await res.json()) as Body;
      expect(body.error).to.include.keys('message', 'type', 'param', 'code');
    });
  });

  describe('stored responses: GET /v1/responses/{id} and input_items', () => {
    it('retrieves the stored Response as it was answered, and lists its input items page by page', async () => {
      up.anthropic.answer = () => CASES[1]!.anthropic!.json;
      const first = check(Response, await (await post('anthropic', CASES[1]!.request)).json(), 'the first Response');
      const call = first.output.find((o) => o.type === 'function_call')!;
      up.anthropic.answer = () => CASES[0]!.anthropic!.json;
      const input = [
        { type: 'message', role: 'developer', content: 'Use metric units.' },
        { type: 'function_call_output', call_id: (call as { call_id: string }).call_id, output: '3°C' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'And tomorrow?' },
            { type: 'input_image', image_url: 'https://example.com/a.png' },
          ],
        },
      ];
      const second = check(
        Response,
        await (await post('anthropic', { input, previous_response_id: first.id, tools: [WEATHER] })).json(),
        'the second Response',
      );
      expect(second.previous_response_id).to.equal(first.id);

      const gotRes = await get('anthropic', second.id);
      expect(gotRes.status).to.equal(200);
      const got = check(Response, await gotRes.json(), 'the retrieved Response');
      expect(got).to.deep.equal(second);

      const all = check(ItemList, await (await get('anthropic', `${second.id}/input_items`)).json(), 'the input items');
      // Newest first by default: this turn's three, then the first turn's output (text, call) and its input.
      expect(all.data.map((i) => i.type)).to.deep.equal(['message', 'function_call_output', 'message', 'function_call', 'message', 'message']);
      expect(all).to.deep.include({ has_more: false, first_id: all.data[0]!.id, last_id: all.data.at(-1)!.id });
      expect(all.data[0]).to.deep.include({ role: 'user', status: 'completed' });
      expect((all.data[0] as Body).content[1]).to.deep.equal({ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' });
      expect(all.data[2]).to.deep.include({ role: 'developer', content: [{ type: 'input_text', text: 'Use metric units.' }] });

      const page1 = check(ItemList, await (await get('anthropic', `${second.id}/input_items?limit=2&order=asc`)).json(), 'page 1');
      expect(page1.data.map((i) => i.id)).to.deep.equal(
        [...all.data]
          .reverse()
          .slice(0, 2)
          .map((i) => i.id),
      );
      expect(page1.has_more).to.equal(true);
      const page2 = check(ItemList, await (await get('anthropic', `${second.id}/input_items?limit=10&order=asc&after=${page1.last_id}`)).json(), 'page 2');
      expect(page2.data.map((i) => i.id)).to.deep.equal(
        [...all.data]
          .reverse()
          .slice(2)
          .map((i) => i.id),
      );
      expect(page2.has_more).to.equal(false);
      const bad = await get('anthropic', `${second.id}/input_items?limit=0`);
      expect(bad.status).to.equal(400);
    });

    it('stores a streamed answer as its response.completed had it', async () => {
      up.openai.answer = () => CASES[1]!.openai!.stream;
      const { final } = await stream('openai', CASES[1]!.request);
      const got = check(Response, await (await get('openai', final!.id)).json(), 'the retrieved Response');
      expect(got).to.deep.equal(final);
    });
  });
});

describe('@waygate/responses-api: a whole Response replayed as its events (the codec), against the spec', () => {
  const chats: [string, Body, Body][] = CASES.filter((c) => c.openai).map((c) => [c.name, c.openai!.json.json as Body, c.request]);
  chats.push(['reasoning', oaJSON({ content: 'Four.', reasoning_content: 'Two and two.' }, 'stop'), { input: 'Think' }]);
  for (const [name, chat, request] of chats) {
    it(name, () => {
      const r = toResponse(chat, { model: 'm-1', ...request });
      check(Response, r, 'the Response');
      const { final } = checkStream(responseEvents(r));
      expect(final).to.deep.equal(r);
    });
  }
});
