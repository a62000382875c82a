// End to end: the official `openai` SDK → a real gateway (with its default plugins) → a fake Anthropic
// server on loopback that speaks /v1/messages in JSON and SSE, as Anthropic documents it.
import { expect } from 'chai';
import http from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const TEXT_STREAM = sseFixture('text-stream');

const KEY = 'sk-ant-e2e-0123456789';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

describe('anthropic end to end, through the openai SDK', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let fake: http.Server;
  let fakeURL = '';
  const seen: Seen[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const logSink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
      done();
    },
  });

  before(async () => {
    fake = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        seen.push({ url: req.url!, headers: req.headers, body });
        if (req.url !== '/v1/messages' || req.headers['x-api-key'] !== KEY) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify(jsonFixture('error-unauthorized')));
        }
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          return void res.end(TEXT_STREAM.join(''));
        }
        const last = body.messages.at(-1);
        const toolResult = Array.isArray(last.content) ? last.content.find((b: any) => b.type === 'tool_result') : undefined;
        const usage = { input_tokens: 30, output_tokens: 9, cache_read_input_tokens: 10, cache_creation_input_tokens: 0 };
        const message = (content: object[], stop_reason: string) => ({
          id: 'msg_e2e',
          type: 'message',
          role: 'assistant',
          model: body.model,
          content,
          stop_reason,
          stop_sequence: null,
          usage,
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        if (body.tools && !toolResult) {
          res.end(JSON.stringify(message([{ type: 'tool_use', id: 'toolu_e2e', name: 'get_weather', input: { city: 'Paris' } }], 'tool_use')));
        } else if (toolResult) {
          res.end(JSON.stringify(message([{ type: 'text', text: `It is ${toolResult.content} in Paris.` }], 'end_turn')));
        } else {
          res.end(JSON.stringify(message([{ type: 'text', text: 'Hello from Claude.' }], 'end_turn')));
        }
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeURL = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
    // The embedded default plugin list, so this also checks the adapter is a bundled default.
    gw = await startGateway({ config: {}, port: 0, logger: createLogger({ level: 'info', destination: logSink }), env: {} });
  });

  after(async () => {
    await gw?.close(0);
    fake?.closeAllConnections();
    await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  const client = () =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: KEY,
      maxRetries: 0,
      defaultHeaders: { 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': fakeURL, 'x-waygate-anthropic-beta': 'beta-1' },
    });

  it('answers a chat completion', async () => {
    const res = await client().chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(res.choices[0]!.message.content).to.equal('Hello from Claude.');
    expect(res.choices[0]!.finish_reason).to.equal('stop');
    expect(res.usage).to.deep.include({ prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 });
    expect(res.usage!.prompt_tokens_details!.cached_tokens).to.equal(10);
    // The request's log line reads usage from the canonical answer, not Anthropic's own shape.
    const line = logLines.find((l) => l.msg === 'request' && l.provider === 'anthropic' && l.stream === false);
    expect(line, JSON.stringify(logLines)).to.include({ promptTokens: 40, completionTokens: 9 });
    expect(seen).to.have.length(1);
    expect(seen[0]!.headers).to.include({ 'anthropic-version': '2023-06-01', 'anthropic-beta': 'beta-1' });
    expect(seen[0]!.headers).to.not.have.property('authorization');
    expect(seen[0]!.body).to.deep.equal({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it('streams content, finish_reason and usage', async () => {
    const stream = await client().chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        content += c.delta.content ?? '';
        finish = c.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(content).to.equal('Hello, wörld!');
    expect(finish).to.equal('stop');
    expect(usage).to.deep.include({ prompt_tokens: 27, completion_tokens: 4, total_tokens: 31 });
    expect(seen[0]!.body.stream).to.equal(true);
  });

  it('round-trips a tool call', async () => {
    const c = client();
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await c.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages,
      tools: [WEATHER_TOOL as OpenAI.ChatCompletionTool],
      tool_choice: 'required',
    });
    const msg = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).to.equal('tool_calls');
    expect(msg.tool_calls).to.have.length(1);
    const call = msg.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.id).to.equal('toolu_e2e');
    expect(JSON.parse(call.function.arguments)).to.deep.equal({ city: 'Paris' });
    expect(seen[0]!.body.tool_choice).to.deep.equal({ type: 'any' });

    messages.push(msg, { role: 'tool', tool_call_id: call.id, content: '18C' });
    const second = await c.chat.completions.create({ model: 'claude-sonnet-4-5', messages, tools: [WEATHER_TOOL as OpenAI.ChatCompletionTool] });
    expect(second.choices[0]!.message.content).to.equal('It is 18C in Paris.');
    expect(seen[1]!.body.messages).to.deep.equal([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_e2e', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_e2e', content: '18C' }] },
    ]);
  });

  it('relays an Anthropic error with its status and message', async () => {
    const bad = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'wrong-key',
      maxRetries: 0,
      defaultHeaders: { 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': fakeURL },
    });
    const err = await bad.chat.completions.create({ model: 'c', messages: [{ role: 'user', content: 'x' }] }).then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    expect(err).to.be.instanceOf(OpenAI.APIError);
    expect(err!.status).to.equal(401);
    expect(err!.message).to.include('invalid x-api-key');
  });

  it('keeps a mid-stream error event as an OpenAI error', async () => {
    // (served by a one-off server: message_start, some text, then Anthropic's error event)
    const s = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(TEXT_STREAM.slice(0, 4).join('') + sseFixture('overloaded-event').join(''));
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${KEY}`,
          'x-waygate-provider': 'anthropic',
          'x-waygate-custom-host': `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`,
        },
        body: JSON.stringify({ model: 'c', messages: [{ role: 'user', content: 'x' }], stream: true }),
      });
      const text = await res.text();
      expect(text).to.include('"content":"Hel"');
      expect(text).to.include('{"error":{"message":"Overloaded"');
    } finally {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
});
