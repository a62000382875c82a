// End to end: the official @anthropic-ai/sdk → a real gateway (default plugins + this one) → fake
// Anthropic and OpenAI upstreams on loopback that record the exact bytes they receive.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { Loopback, json, sse, openAIFrames } from './fakes.js';
import { THINKING_TOOL_MESSAGE, THINKING_TOOL_STREAM, WEATHER_TOOL, frame, openAIToolChunks } from './fixtures.js';

const KEY = 'sk-e2e-0123456789abcdef';

/** What the SDK sent and got back, per request (read through a fetch that copies both). */
interface Exchange {
  url: string;
  requestBody: string;
  requestHeaders: Headers;
  status: number;
  headers: Headers;
  responseText: Promise<string>;
}

/** A Message as Anthropic writes it, with its own spacing and key order (so byte equality means something). */
const MESSAGE_RAW =
  '{"id":"msg_01Aa","type":"message","role":"assistant","model":"claude-sonnet-4-5",\n "content":[{"type":"text","text":"Hello from Claude."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":6},"future_answer_field":{"kept":true}}';

const openAICompletion = (
  message: object,
  finish: string,
  usage = { prompt_tokens: 40, completion_tokens: 7, total_tokens: 47, prompt_tokens_details: { cached_tokens: 8 } },
) =>
  JSON.stringify({
    id: 'chatcmpl-e2e',
    object: 'chat.completion',
    created: 1730000000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish }],
    usage,
  });

describe('@waygate/anthropic-messages end to end, through @anthropic-ai/sdk', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let ant: Loopback;
  let oai: Loopback;
  let exchanges: Exchange[] = [];
  const logLines: Array<Record<string, any>> = [];
  const logSink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
      done();
    },
  });

  const recordingFetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(url, init);
    exchanges.push({
      url: String(url),
      requestBody: String(init?.body ?? ''),
      requestHeaders: new Headers(init?.headers),
      status: res.status,
      headers: res.headers,
      responseText: res.clone().text(),
    });
    return res;
  };

  const client = (headers: Record<string, string>) =>
    new Anthropic({ baseURL: gw.url, apiKey: KEY, authToken: null, maxRetries: 0, defaultHeaders: headers, fetch: recordingFetch as typeof fetch });
  const toAnthropic = (extra: Record<string, string> = {}) =>
    client({ 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': `${ant.url}/v1`, ...extra });
  const toOpenAI = () => client({ 'x-waygate-provider': 'openai', 'x-waygate-custom-host': `${oai.url}/v1` });
  const fallbackConfig = () =>
    JSON.stringify({
      strategy: { mode: 'fallback' },
      targets: [
        { provider: 'anthropic', custom_host: `${ant.url}/v1` },
        { provider: 'openai', custom_host: `${oai.url}/v1`, override_params: { model: 'gpt-4o-mini' } },
      ],
    });

  before(async () => {
    ant = await Loopback.start();
    oai = await Loopback.start();
    gw = await startGateway({
      // By package name: if the plugin becomes a default, this entry replaces the default one.
      config: { plugins: ['@waygate/anthropic-messages'] },
      port: 0,
      logger: createLogger({ level: 'info', destination: logSink }),
      env: {},
    });
  });

  after(async () => {
    await gw?.close(0);
    await ant?.close();
    await oai?.close();
  });

  beforeEach(() => {
    ant.reset();
    oai.reset();
    exchanges = [];
    ant.fallback = (req, res) => {
      if (req.path === '/v1/messages/count_tokens') return json(res, 200, '{"input_tokens":42}');
      if (req.body?.stream) return sse(res, THINKING_TOOL_STREAM);
      json(res, 200, MESSAGE_RAW);
    };
    oai.fallback = (req, res) => {
      if (req.body?.stream) return sse(res, openAIFrames(openAIToolChunks()));
      const last = req.body.messages.at(-1);
      if (last.role === 'tool') return json(res, 200, openAICompletion({ content: `It is ${last.content} in Paris.` }, 'stop'));
      if (req.body.tools) {
        return json(
          res,
          200,
          openAICompletion(
            { content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
            'tool_calls',
          ),
        );
      }
      json(res, 200, openAICompletion({ content: 'Hello from GPT.' }, 'stop'));
    };
  });

  describe('to an Anthropic target: byte-for-byte pass-through', () => {
    it("sends the client's exact bytes (cache_control, a signed thinking block, an unknown field) and relays the answer's bytes", async () => {
      const params = {
        model: 'claude-e2e',
        max_tokens: 1024,
        system: [{ type: 'text', text: 'A long, cached system prompt.', cache_control: { type: 'ephemeral' } }],
        thinking: { type: 'enabled', budget_tokens: 2048 },
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'They want weather.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' },
              { type: 'text', text: 'Which city?' },
            ],
          },
          { role: 'user', content: [{ type: 'text', text: 'Paris', cache_control: { type: 'ephemeral' } }] },
        ],
        future_request_field: { added: 'next month' },
      };
      const msg = await toAnthropic({ 'anthropic-beta': 'interleaved-thinking-2025-05-14' }).messages.create(params as any);

      expect(ant.received).to.have.length(1);
      const got = ant.received[0]!;
      expect(got.path).to.equal('/v1/messages');
      expect(got.raw.toString('utf8')).to.equal(exchanges[0]!.requestBody);
      expect(got.body.system[0].cache_control).to.deep.equal({ type: 'ephemeral' });
      expect(got.body.messages[1].content[0].signature).to.equal('EqQBCgIYAhIM1gbcDa9GJwZA2b3h');
      expect(got.body.future_request_field).to.deep.equal({ added: 'next month' });
      expect(got.headers['x-api-key']).to.equal(KEY);
      expect(got.headers['anthropic-version'])
        .to.equal(exchanges[0]!.requestHeaders.get('anthropic-version'))
        .and.to.match(/^\d{4}-\d\d-\d\d$/);
      expect(got.headers['anthropic-beta']).to.equal('interleaved-thinking-2025-05-14');
      expect(got.headers).to.not.have.property('authorization');

      expect(await exchanges[0]!.responseText).to.equal(MESSAGE_RAW);
      expect(msg).to.deep.equal(JSON.parse(MESSAGE_RAW));
      expect(exchanges[0]!.headers.get('x-waygate-provider')).to.equal('anthropic');
      const line = logLines.findLast((l) => l.msg === 'request' && l.route === '/v1/messages');
      expect(line).to.include({ status: 200, promptTokens: 2060, completionTokens: 6, model: 'claude-sonnet-4-5' });
    });

    it('relays a stream (thinking, text, tool_use with input_json_delta) event for event, byte for byte', async () => {
      const stream = toAnthropic().messages.stream({
        model: 'claude-e2e',
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [WEATHER_TOOL as any],
      });
      const types: string[] = [];
      for await (const ev of stream) types.push(ev.type);
      const final = await stream.finalMessage();
      // (The SDK adds its own fields to the message it assembles: compare the wire's.)
      const wire = Object.fromEntries(Object.keys(THINKING_TOOL_MESSAGE).map((k) => [k, (final as any)[k]]));
      expect(wire).to.deep.equal(THINKING_TOOL_MESSAGE);
      expect(types).to.include.members(['message_start', 'content_block_delta', 'message_delta', 'message_stop']);
      expect(await exchanges[0]!.responseText).to.equal(THINKING_TOOL_STREAM.join(''));
      expect(ant.received[0]!.raw.toString('utf8')).to.equal(exchanges[0]!.requestBody);
      expect(ant.received[0]!.body.stream).to.equal(true);
      const line = logLines.findLast((l) => l.msg === 'request' && l.route === '/v1/messages' && l.stream === true);
      expect(line).to.include({ promptTokens: 125, completionTokens: 89 });
    });

    it('relays an error event that arrives mid-stream as it is', async () => {
      const errorFrame = frame('error', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
      ant.script.push((_req, res) => sse(res, [...THINKING_TOOL_STREAM.slice(0, 8), errorFrame]));
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': `${ant.url}/v1` },
        body: JSON.stringify({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], stream: true }),
      });
      expect(await res.text()).to.equal([...THINKING_TOOL_STREAM.slice(0, 8), errorFrame].join(''));
    });
  });

  describe('to an OpenAI-format target: translated', () => {
    it('answers a JSON request as a Message, with usage', async () => {
      const msg = await toOpenAI().messages.create({
        model: 'gpt-4o-mini',
        max_tokens: 300,
        system: 'Be brief.',
        stop_sequences: ['###'],
        metadata: { user_id: 'u-1' },
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(msg).to.deep.equal({
        id: 'chatcmpl-e2e',
        type: 'message',
        role: 'assistant',
        model: 'gpt-4o-mini',
        content: [{ type: 'text', text: 'Hello from GPT.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 32, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 7 },
      });
      const got = oai.received[0]!;
      expect(got.path).to.equal('/v1/chat/completions');
      expect(got.headers.authorization).to.equal(`Bearer ${KEY}`);
      expect(got.body).to.deep.equal({
        model: 'gpt-4o-mini',
        max_tokens: 300,
        stop: ['###'],
        user: 'u-1',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
      });
      const line = logLines.findLast((l) => l.msg === 'request' && l.route === '/v1/messages' && l.provider === 'openai');
      expect(line).to.include({ promptTokens: 40, completionTokens: 7 });
    });

    it('round-trips tool use: tool_use blocks out, tool_result back in as tool messages', async () => {
      const c = toOpenAI();
      const messages: Anthropic.MessageParam[] = [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Paris?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
      ];
      const first = await c.messages.create({
        model: 'gpt-4o-mini',
        max_tokens: 100,
        messages,
        tools: [WEATHER_TOOL as any],
        tool_choice: { type: 'tool', name: 'get_weather' },
      });
      expect(first.stop_reason).to.equal('tool_use');
      expect(first.content).to.deep.equal([{ type: 'tool_use', id: 'call_9', name: 'get_weather', input: { city: 'Paris' } }]);
      expect(oai.received[0]!.body.tool_choice).to.deep.equal({ type: 'function', function: { name: 'get_weather' } });
      expect(oai.received[0]!.body.messages[0].content[1]).to.deep.equal({ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } });

      messages.push(
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9', content: '18C' }] },
      );
      const second = await c.messages.create({ model: 'gpt-4o-mini', max_tokens: 100, messages, tools: [WEATHER_TOOL as any] });
      expect(second.content).to.deep.equal([{ type: 'text', text: 'It is 18C in Paris.' }]);
      expect(oai.received[1]!.body.messages.slice(1)).to.deep.equal([
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_9', content: '18C' },
      ]);
    });

    it('streams text and tool calls (streamed arguments) as Anthropic events, usage at the end', async () => {
      const stream = toOpenAI().messages.stream({
        model: 'gpt-4o-mini',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [WEATHER_TOOL as any],
      });
      let text = '';
      stream.on('text', (t) => (text += t));
      const final = await stream.finalMessage();
      expect(text).to.equal('Checking now.');
      expect(final.content).to.deep.equal([
        { type: 'text', text: 'Checking now.' },
        { type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_def', name: 'get_time', input: {} },
      ]);
      expect(final.stop_reason).to.equal('tool_use');
      expect(final.usage).to.include({ input_tokens: 100, cache_read_input_tokens: 20, output_tokens: 30 });
      expect(oai.received[0]!.body).to.deep.include({ stream: true, stream_options: { include_usage: true } });
      // The wire: named events whose data repeats the name, no [DONE].
      const raw = await exchanges[0]!.responseText;
      const frames = raw.split('\n\n').filter(Boolean);
      for (const f of frames) {
        const [ev, data] = f.split('\n');
        expect(JSON.parse(data!.slice('data: '.length)).type).to.equal(ev!.slice('event: '.length));
      }
      expect(raw).to.not.include('[DONE]');
      const line = logLines.findLast((l) => l.msg === 'request' && l.route === '/v1/messages' && l.provider === 'openai' && l.stream === true);
      expect(line).to.include({ promptTokens: 120, completionTokens: 30 });
    });
  });

  describe('count_tokens', () => {
    it('passes through to Anthropic', async () => {
      const res = await toAnthropic()
        .messages.countTokens({ model: 'claude-e2e', messages: [{ role: 'user', content: 'Hello' }] })
        .withResponse();
      expect(res.data).to.deep.equal({ input_tokens: 42 });
      expect(res.response.headers.get('x-waygate-token-count')).to.equal(null);
      expect(ant.received[0]!.path).to.equal('/v1/messages/count_tokens');
      expect(ant.received[0]!.raw.toString('utf8')).to.equal(exchanges[0]!.requestBody);
      expect(ant.received[0]!.headers['x-api-key']).to.equal(KEY);
    });

    it('answers with an estimate, marked by a header, for an OpenAI-format target', async () => {
      const res = await toOpenAI()
        .messages.countTokens({
          model: 'gpt-4o-mini',
          system: 'abcd',
          messages: [{ role: 'user', content: 'Hello, world' }],
          tools: [WEATHER_TOOL as any],
        })
        .withResponse();
      const toolChars = WEATHER_TOOL.name.length + WEATHER_TOOL.description.length + JSON.stringify(WEATHER_TOOL.input_schema).length;
      expect(res.data).to.deep.equal({ input_tokens: Math.ceil((4 + 12 + toolChars) / 4) });
      expect(res.response.headers.get('x-waygate-token-count')).to.equal('estimate');
      expect(oai.received).to.have.length(0);
    });
  });

  describe('fallback', () => {
    it('falls back from an overloaded (529) Anthropic target to an OpenAI target', async () => {
      ant.script.push((_req, res) => json(res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      const c = client({ 'x-waygate-config': fallbackConfig() });
      const res = await c.messages.create({ model: 'claude-e2e', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      expect(res.data.content).to.deep.equal([{ type: 'text', text: 'Hello from GPT.' }]);
      expect(res.response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
      expect(ant.received).to.have.length(1);
      expect(oai.received[0]!.body.model).to.equal('gpt-4o-mini');
    });

    it("falls back when an Anthropic stream's first event is an overloaded error", async () => {
      ant.script.push((_req, res) =>
        sse(res, [THINKING_TOOL_STREAM[0]!, frame('error', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')]),
      );
      const c = client({ 'x-waygate-config': fallbackConfig() });
      const final = await c.messages.stream({ model: 'claude-e2e', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
      expect(final.content[0]).to.deep.equal({ type: 'text', text: 'Checking now.' });
      expect(exchanges[0]!.headers.get('x-waygate-target')).to.equal('config.targets[1]');
      expect(ant.received).to.have.length(1);
      expect(oai.received).to.have.length(1);
    });
  });

  describe('errors reach the SDK as its own error classes', () => {
    it("relays Anthropic's rate limit error body unchanged (RateLimitError)", async () => {
      const body = {
        type: 'error',
        error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
        request_id: 'req_011CS',
      };
      ant.script.push((_req, res) => json(res, 429, body, { 'retry-after': '7' }));
      const err = await toAnthropic()
        .messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(Anthropic.RateLimitError);
      const e = err as InstanceType<typeof Anthropic.RateLimitError>;
      expect(e.status).to.equal(429);
      expect(e.message).to.include('per-minute rate limit');
      expect(e.error).to.deep.equal(body);
      expect(e.headers?.get('retry-after')).to.equal('7');
    });

    it("gives an OpenAI-format upstream's error Anthropic's shape (RateLimitError, AuthenticationError)", async () => {
      oai.script.push((_req, res) =>
        json(res, 429, { error: { message: 'Rate limit reached for gpt-4o-mini', type: 'requests', param: null, code: 'rate_limit_exceeded' } }),
      );
      oai.script.push((_req, res) =>
        json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }),
      );
      const call = () =>
        toOpenAI()
          .messages.create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
          .then(
            () => undefined,
            (e: unknown) => e as any,
          );
      const rate = await call();
      expect(rate).to.be.instanceOf(Anthropic.RateLimitError);
      expect(rate.error).to.deep.equal({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate limit reached for gpt-4o-mini' } });
      const auth = await call();
      expect(auth).to.be.instanceOf(Anthropic.AuthenticationError);
      expect(auth.message).to.include('Incorrect API key provided');
    });

    it("gives the gateway's own errors Anthropic's shape (BadRequestError)", async () => {
      const noProvider = await client({})
        .messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
        .then(
          () => undefined,
          (e: unknown) => e as any,
        );
      expect(noProvider).to.be.instanceOf(Anthropic.BadRequestError);
      expect(noProvider.error.type).to.equal('error');
      expect(noProvider.error.error.type).to.equal('invalid_request_error');
      expect(noProvider.message).to.include('No provider');
      const serverTool = await toOpenAI()
        .messages.create({
          model: 'gpt-4o-mini',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'x' }],
          tools: [{ type: 'web_search_20250305', name: 'web_search' } as any],
        })
        .then(
          () => undefined,
          (e: unknown) => e as any,
        );
      expect(serverTool).to.be.instanceOf(Anthropic.BadRequestError);
      expect(serverTool.message).to.include('web_search_20250305');
      expect(oai.received).to.have.length(0);
    });
  });

  describe('a stream cut after content', () => {
    it('from Anthropic ends with an Anthropic error event, which the SDK raises', async () => {
      ant.script.push((_req, res) => sse(res, THINKING_TOOL_STREAM.slice(0, 8), { cut: true }));
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': `${ant.url}/v1` },
        body: JSON.stringify({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], stream: true }),
      });
      expect(res.status).to.equal(200);
      const text = await res.text();
      const head = THINKING_TOOL_STREAM.slice(0, 8).join('');
      expect(text.startsWith(head)).to.equal(true);
      const tail = text.slice(head.length);
      expect(tail).to.match(
        /^event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The stream from anthropic failed after it started: [^"]+"\}\}\n\n$/,
      );

      ant.script.push((_req, r) => sse(r, THINKING_TOOL_STREAM.slice(0, 8), { cut: true }));
      const stream = toAnthropic().messages.stream({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      const err = await stream.finalMessage().then(
        () => undefined,
        (e: unknown) => e as any,
      );
      expect(err).to.be.instanceOf(Anthropic.APIError);
      expect(err.message).to.include('The stream from anthropic failed after it started');
    });

    it('from an OpenAI-format target ends with an Anthropic error event too', async () => {
      oai.script.push((_req, res) => sse(res, openAIFrames(openAIToolChunks().slice(0, 3)), { cut: true }));
      const stream = toOpenAI().messages.stream({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      let text = '';
      stream.on('text', (t) => (text += t));
      const err = await stream.finalMessage().then(
        () => undefined,
        (e: unknown) => e as any,
      );
      expect(text).to.equal('Checking now.');
      expect(err).to.be.instanceOf(Anthropic.APIError);
      expect(err.error).to.deep.include({ type: 'error' });
      expect(err.error.error.type).to.equal('api_error');
      expect(err.message).to.include('The stream from openai failed after it started');
      const raw = await exchanges[0]!.responseText;
      expect(raw).to.match(/event: content_block_delta\n.*\n\nevent: error\ndata: \{"type":"error"/s);
      expect(raw).to.not.include('message_stop');
    });
  });
});
