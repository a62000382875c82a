// OpenTelemetry traces end to end: the gateway with @waygate/tracing, the SDK set up as the CLI
// does (startTracing of @waygate/core/otel), exporting over OTLP/HTTP to a loopback receiver that
// decodes what it gets (OTLP's JSON encoding); a server span per request with the caller's
// traceparent as parent, a client span per upstream attempt, GenAI attributes, the traceparent sent
// upstream, a stream's span ended with the stream with its finish reasons, content (JSON answers and
// streams of chat completions, /v1/messages and /v1/responses) redacted and bounded when opted in.
import { expect } from 'chai';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { runningTracing, startTracing } from '@waygate/core/otel';
import type { Tracing } from '@waygate/core/otel';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received, Reply } from './fakes/provider-upstreams.js';
import { LogCapture } from './helpers/api-support.js';
import { OtlpReceiver, attrs } from './helpers/otlp.js';
import type { OtlpSpan } from './helpers/otlp.js';

const KEY = 'sk-trace-held-0123456789';
const MODEL = 'gpt-4o-2024-08-06';
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usageChunk = (prompt: number, completion: number) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } })}\n\n`;
/** A text streamed word by word. */
const LONG = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');

const lastUserText = (body: { messages?: { role: string; content: unknown }[] }): string => {
  const m = [...(body.messages ?? [])].reverse().find((x) => x.role === 'user');
  return typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content ?? '');
};

/** OpenAI's Responses stream (typed events, each `event:` named and repeated as the data's `type`) for the same answer: text, then a function call. */
function responsesStream(): Reply {
  let seq = 0;
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: seq++ })}\n\n`;
  const head = { id: 'resp_1', object: 'response', created_at: 1, model: MODEL };
  const text = {
    type: 'message',
    id: 'msg_1',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'Reach carol@example.com now', annotations: [] }],
  };
  const call = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: '{"email":"dave@example.com"}', status: 'completed' };
  const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
  return {
    chunkBytes: 7,
    stream: [
      ev('response.created', { response: { ...head, status: 'in_progress', output: [] } }),
      ev('response.output_item.added', { output_index: 0, item: { ...text, status: 'in_progress', content: [] } }),
      ev('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } }),
      ev('response.output_text.delta', { ...at, delta: 'Reach carol@exa' }),
      ev('response.output_text.delta', { ...at, delta: 'mple.com now' }),
      ev('response.output_text.done', { ...at, text: 'Reach carol@example.com now' }),
      ev('response.content_part.done', { ...at, part: text.content[0] }),
      ev('response.output_item.done', { output_index: 0, item: text }),
      ev('response.output_item.added', { output_index: 1, item: { ...call, arguments: '', status: 'in_progress' } }),
      ev('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 1, delta: '{"email":"dave@' }),
      ev('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 1, delta: 'example.com"}' }),
      ev('response.function_call_arguments.done', { item_id: 'fc_1', output_index: 1, arguments: call.arguments }),
      ev('response.output_item.done', { output_index: 1, item: call }),
      ev('response.completed', {
        response: { ...head, status: 'completed', output: [text, call], usage: { input_tokens: 5, output_tokens: 9, total_tokens: 14 } },
      }),
    ],
  };
}

function openaiHandler(req: Received): Reply {
  if (req.pathname.endsWith('/responses')) return responsesStream();
  const body = req.body as { stream?: boolean; model?: string; messages?: { role: string; content: unknown }[] };
  if (body.model === 'gpt-broken') return { status: 500, json: { error: { message: 'boom', type: 'server_error' } } };
  const said = lastUserText(body);
  if (body.stream && said.includes('use the tool')) {
    // Text with an address split across two chunks, then a tool call whose arguments hold another, one byte at a time.
    return {
      chunkBytes: 1,
      stream: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Reach carol@exa' }),
        chunk({ content: 'mple.com now' }),
        chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"email":"dave@' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'example.com"}' } }] }),
        chunk({}, 'tool_calls'),
        usageChunk(7, 11),
        'data: [DONE]\n\n',
      ],
    };
  }
  if (body.stream && said.includes('say a great deal')) {
    // 1,100 chunks of 1,000 characters: past the 1 MiB a stream holds.
    const x = 'x'.repeat(999);
    return {
      stream: [
        chunk({ role: 'assistant', content: '' }),
        ...Array.from({ length: 1100 }, () => chunk({ content: `${x}y` })),
        chunk({}, 'stop'),
        'data: [DONE]\n\n',
      ],
    };
  }
  if (body.stream && said.includes('say a lot')) {
    return {
      stream: [
        chunk({ role: 'assistant', content: '' }),
        ...LONG.split(/(?= )/).map((w) => chunk({ content: w })),
        chunk({}, 'length'),
        'data: [DONE]\n\n',
      ],
    };
  }
  if (body.stream) {
    return { stream: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({}, 'stop'), usageChunk(9, 2), 'data: [DONE]\n\n'] };
  }
  return {
    json: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Write to bob@example.com' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    },
  };
}

/** A traceparent of a trace id made of one hex digit: each request is found by its trace. */
const traceOf = (digit: string) => digit.repeat(32);
const parentFor = (digit: string) => `00-${traceOf(digit)}-b7ad6b7169203331-01`;

interface Message {
  role: string;
  parts: { type: string; content?: string; id?: string; name?: string; arguments?: string }[];
  finish_reason?: string;
}

describe('OpenTelemetry traces (@waygate/tracing) to a loopback OTLP receiver', () => {
  let up: FakeUpstream;
  let otlp: OtlpReceiver;
  let tracing: Tracing;
  let gw: Gateway;
  let plain: Gateway;
  let small: Gateway;
  let big: Gateway;

  before(async () => {
    [up, otlp] = await Promise.all([FakeUpstream.start(openaiHandler), OtlpReceiver.start()]);
    // As the CLI does: the SDK first (the plugin's SDK settings, as the CLI reads them from the config file), then the gateway.
    tracing = startTracing({ settings: { endpoint: otlp.url, serviceName: 'gateway-under-test' }, env: {} })!;
    const providers = { openai: { api_key: KEY, base_url: `${up.url}/v1` } };
    const start = (options: object) =>
      startGateway({
        config: { providers, plugins: [{ module: '@waygate/tracing', options }] },
        port: 0,
        host: '127.0.0.1',
        logger: new LogCapture('warn').logger,
      });
    [gw, plain, small, big] = await Promise.all([
      start({ endpoint: otlp.url, serviceName: 'gateway-under-test', captureContent: true }),
      start({}),
      start({ captureContent: true, maxContentChars: 60 }),
      start({ captureContent: true, maxContentChars: 1_048_576 }),
    ]);
    // A reload sets the plugin up again: it must reuse the one provider, not make another.
    await gw.reload();
    expect(runningTracing()).to.equal(tracing);

    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const to = (digit: string) => ({ headers: { 'x-waygate-provider': 'openai', traceparent: parentFor(digit) } });
    // 1: JSON, under a caller's trace; 2: a stream; 3: a fallback whose first target fails.
    await client.chat.completions.create(
      {
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Mail alice@example.com please' }],
        max_tokens: 50,
        temperature: 0.2,
        user: 'eve@example.com',
      },
      { headers: { 'x-waygate-provider': 'openai', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
    );
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-waygate-provider': 'openai' } },
    );
    for await (const c of stream) void c;
    const fallback = {
      strategy: { mode: 'fallback' },
      targets: [
        { provider: 'openai', override_params: { model: 'gpt-broken' } },
        { provider: 'openai', override_params: { model: 'gpt-4o' } },
      ],
    };
    await client.chat.completions.create(
      { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-waygate-config': JSON.stringify(fallback) } },
    );
    // Streams with content: chat completions (a), /v1/messages (bridged to the chat upstream) and /v1/responses (c).
    const toolStream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'please use the tool' }], stream: true },
      to('a'),
    );
    for await (const c of toolStream) void c;
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
    const msgStream = await anthropic.messages.create(
      { model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'please use the tool' }], stream: true },
      { headers: { 'x-waygate-provider': 'openai' } },
    );
    for await (const e of msgStream) void e;
    const respStream = await client.responses.create(
      { model: 'gpt-4o', instructions: 'Copy frank@example.com', input: 'please use the tool', stream: true },
      to('c'),
    );
    for await (const e of respStream) void e;
    // Without captureContent (d), and with a small bound (e: a stream, f: a JSON answer).
    const plainClient = new OpenAI({ baseURL: `${plain.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const plainStream = await plainClient.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'please use the tool' }], stream: true },
      to('d'),
    );
    for await (const c of plainStream) void c;
    const smallClient = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const longStream = await smallClient.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'say a lot' }], stream: true },
      to('e'),
    );
    for await (const c of longStream) void c;
    await smallClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `Mail alice@example.com ${LONG}` }] }, to('f'));
    // A stream longer than what a stream holds (9).
    const bigClient = new OpenAI({ baseURL: `${big.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const bigStream = await bigClient.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'say a great deal' }], stream: true },
      to('9'),
    );
    let got = 0;
    for await (const c of bigStream) got += c.choices[0]?.delta.content?.length ?? 0;
    expect(got).to.equal(1_100_000);
    await Promise.all([gw.close(0), plain.close(0), small.close(0), big.close(0)]);
    await tracing.shutdown(); // flushes the batch, as the CLI does when the gateway closed
  });
  after(async () => {
    await tracing?.shutdown();
    await Promise.all([up?.close(), otlp?.close()]);
  });

  const servers = () => otlp.spans.filter((s) => s.kind === 2);
  const clients = (server: OtlpSpan) => otlp.spans.filter((s) => s.kind === 3 && s.parentSpanId === server.spanId && s.traceId === server.traceId);
  const serverOf = (digit: string) => {
    const s = servers().find((x) => x.traceId === traceOf(digit));
    expect(s, `the server span of trace ${digit}`).to.not.equal(undefined);
    return s!;
  };
  const output = (s: OtlpSpan): Message[] => JSON.parse(attrs(s)['gen_ai.output.messages'] as string) as Message[];

  it('exports OTLP/HTTP protobuf (the default) with the service name, a server span per request; one provider across a reload', () => {
    expect(otlp.contentTypes[0]).to.match(/application\/x-protobuf/);
    expect(otlp.services).to.include('gateway-under-test');
    expect(servers()).to.have.length(10);
    expect(runningTracing()).to.equal(undefined); // shut down, the globals unregistered
  });

  it('a server span continues the caller’s trace and carries the GenAI attributes; the upstream got a traceparent naming it', () => {
    const s = servers().find((x) => x.traceId === '0af7651916cd43dd8448eb211c80319c')!;
    expect(s, 'span under the caller trace').to.not.equal(undefined);
    expect(s.parentSpanId).to.equal('b7ad6b7169203331');
    expect(s.name).to.equal('chat gpt-4o');
    expect(attrs(s)).to.deep.include({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': MODEL,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.response.finish_reasons': ['stop'],
      'http.response.status_code': 200,
      'waygate.target.path': 'config',
      'waygate.attempts': 1,
    });
    const sent = up.requests.find((r) => (r.body as { max_tokens?: number }).max_tokens === 50)!;
    expect(sent.headers.traceparent).to.equal(`00-0af7651916cd43dd8448eb211c80319c-${s.spanId}-01`);
    const [client] = clients(s);
    expect(client!.name).to.equal('chat gpt-4o');
    expect(attrs(client!)).to.deep.include({ 'gen_ai.provider.name': 'openai', 'http.response.status_code': 200 });
    expect(BigInt(client!.startTimeUnixNano) >= BigInt(s.startTimeUnixNano)).to.equal(true);
    expect(BigInt(client!.endTimeUnixNano) <= BigInt(s.endTimeUnixNano)).to.equal(true);
  });

  it('prompt and completion texts of a JSON answer are recorded only redacted (opted in), as GenAI output messages', () => {
    const s = servers().find((x) => x.traceId === '0af7651916cd43dd8448eb211c80319c')!;
    const a = attrs(s);
    expect(a['gen_ai.input.messages']).to.be.a('string').and.include('Mail').and.not.include('alice@example.com');
    // Only the prompt's keys: not the request's other fields (its `user` here).
    expect(Object.keys(JSON.parse(a['gen_ai.input.messages'] as string) as object)).to.deep.equal(['messages']);
    expect(JSON.stringify(a)).to.not.include('eve@');
    expect(a['gen_ai.output.messages']).to.be.a('string').and.include('[REDACTED_').and.not.include('bob@example.com');
    expect(output(s)).to.deep.equal([{ role: 'assistant', parts: [{ type: 'text', content: 'Write to [REDACTED_EMAIL]' }], finish_reason: 'stop' }]);
    expect(a).to.not.have.property('waygate.content.truncated');
  });

  it('a stream’s span ends with the stream and has its usage and finish reasons', () => {
    const s = servers().find((x) => attrs(x)['waygate.stream'] === true && attrs(x)['gen_ai.usage.input_tokens'] === 9)!;
    expect(attrs(s)).to.deep.include({ 'gen_ai.usage.input_tokens': 9, 'gen_ai.usage.output_tokens': 2, 'gen_ai.response.finish_reasons': ['stop'] });
    expect(output(s)).to.deep.equal([{ role: 'assistant', parts: [{ type: 'text', content: 'Hello' }], finish_reason: 'stop' }]);
    expect(clients(s)).to.have.length(1);
  });

  it('a chat completions stream (one byte at a time): its text and tool-call arguments, whole and redacted, and its finish reason', () => {
    const s = serverOf('a');
    const a = attrs(s);
    expect(a).to.deep.include({ 'waygate.stream': true, 'gen_ai.response.finish_reasons': ['tool_calls'], 'gen_ai.usage.output_tokens': 11 });
    expect(JSON.stringify(a)).to.not.include('carol@').and.not.include('dave@').and.not.include('example.com');
    expect(output(s)).to.deep.equal([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Reach [REDACTED_EMAIL] now' },
          { type: 'tool_call', id: 'call_1', name: 'lookup', arguments: '{"email":"[REDACTED_EMAIL]"}' },
        ],
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('a /v1/messages stream: the same content as Anthropic blocks, its stop reason', () => {
    const s = servers().find((x) => attrs(x)['waygate.endpoint'] === 'messages')!;
    const a = attrs(s);
    expect(a).to.deep.include({ 'waygate.endpoint': 'messages', 'waygate.stream': true, 'gen_ai.response.finish_reasons': ['tool_use'] });
    const [m] = output(s);
    expect(m!.finish_reason).to.equal('tool_use');
    expect(m!.parts[0]).to.deep.equal({ type: 'text', content: 'Reach [REDACTED_EMAIL] now' });
    expect(m!.parts[1]).to.include({ type: 'tool_call', name: 'lookup' });
    expect(JSON.parse(m!.parts[1]!.arguments!)).to.deep.equal({ email: '[REDACTED_EMAIL]' });
    expect(JSON.stringify(a)).to.not.include('example.com');
  });

  it('a /v1/responses stream: the same content from its items, its status as the finish reason', () => {
    const s = serverOf('c');
    const a = attrs(s);
    expect(a).to.deep.include({ 'waygate.endpoint': 'responses', 'waygate.stream': true, 'gen_ai.response.finish_reasons': ['completed'] });
    expect(JSON.parse(a['gen_ai.input.messages'] as string)).to.deep.equal({ instructions: 'Copy [REDACTED_EMAIL]', input: 'please use the tool' });
    const [m] = output(s);
    expect(m!.parts.map((p) => p.type)).to.deep.equal(['text', 'tool_call']);
    expect(m!.parts[0]!.content).to.equal('Reach [REDACTED_EMAIL] now');
    expect(m!.parts[1]).to.include({ name: 'lookup' });
    expect(JSON.parse(m!.parts[1]!.arguments!)).to.deep.equal({ email: '[REDACTED_EMAIL]' });
    expect(JSON.stringify(a)).to.not.include('example.com');
  });

  it('without captureContent a stream still has its finish reasons, and no content', () => {
    const a = attrs(serverOf('d'));
    expect(a).to.deep.include({ 'waygate.stream': true, 'gen_ai.response.finish_reasons': ['tool_calls'] });
    expect(a).to.not.have.property('gen_ai.output.messages');
    expect(a).to.not.have.property('gen_ai.input.messages');
  });

  it('content is bounded: past maxContentChars texts are cut (streams and JSON answers), and the span says so', () => {
    const e = serverOf('e');
    expect(attrs(e)).to.deep.include({ 'gen_ai.response.finish_reasons': ['length'], 'waygate.content.truncated': true });
    const [m] = output(e);
    expect(m!.parts[0]!.content).to.equal(`${LONG.slice(0, 60)}…`);
    const f = attrs(serverOf('f'));
    expect(f['waygate.content.truncated']).to.equal(true);
    const input = f['gen_ai.input.messages'] as string;
    expect(input).to.include('[REDACTED_EMAIL] word0').and.not.include('alice@').and.not.include('word39');
  });

  it('a stream holds at most 1 MiB of event data: the text recorded is what those carried, the finish reason is still read', () => {
    const g = serverOf('9');
    const a = attrs(g);
    expect(a).to.deep.include({ 'gen_ai.response.finish_reasons': ['stop'], 'waygate.content.truncated': true });
    const text = output(g)[0]!.parts[0]!.content!;
    expect(text.length).to.be.within(900_000, 1_048_576);
    expect(text.length % 1000).to.equal(0); // whole chunks
  });

  it('a fallback has a client span per attempt: the failed one marked as an error', () => {
    const s = servers().find((x) => attrs(x)['waygate.attempts'] === 2)!;
    expect(attrs(s)).to.deep.include({ 'waygate.retries': 1, 'http.response.status_code': 200, 'waygate.target.path': 'config.targets[1]' });
    const cs = clients(s).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    expect(cs.map((c) => attrs(c)['waygate.target.path'])).to.deep.equal(['config.targets[0]', 'config.targets[1]']);
    expect(attrs(cs[0]!)['http.response.status_code']).to.equal(500);
    expect(cs[0]!.status?.code).to.equal(2);
    expect(BigInt(cs[0]!.endTimeUnixNano) <= BigInt(cs[1]!.startTimeUnixNano)).to.equal(true);
  });
});

describe('@waygate/tracing without an OpenTelemetry SDK', () => {
  it('taps nothing, sends no traceparent, and says so when its options hold SDK settings', async () => {
    const up = await FakeUpstream.start(openaiHandler);
    const logs = new LogCapture('warn');
    const gw = await startGateway({
      config: {
        providers: { openai: { api_key: KEY, base_url: `${up.url}/v1` } },
        plugins: [{ module: '@waygate/tracing', options: { endpoint: 'http://127.0.0.1:9/v1/traces', sampleRatio: 1 } }],
      },
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
    });
    try {
      expect(runningTracing()).to.equal(undefined);
      const warned = await logs.waitFor((r) => String(r.msg).includes('no OpenTelemetry SDK is registered'), 'about the missing SDK');
      expect(warned.options).to.deep.equal(['endpoint', 'sampleRatio']);
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      await client.chat.completions.create(
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-waygate-provider': 'openai' } },
      );
      expect(up.requests.at(-1)!.headers.traceparent).to.equal(undefined);
    } finally {
      await gw.close(0);
      await up.close();
    }
  });
});
