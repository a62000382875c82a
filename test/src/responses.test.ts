// End to end: the official `openai` SDK's client.responses → a real gateway → loopback fakes: an
// OpenAI-format upstream (the Responses API passed through) and an Anthropic-format one (bridged).
import { expect } from 'chai';
import OpenAI from 'openai';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { Writable } from 'node:stream';
import { Fake, anthropicReply, frame, sendJSON, sendSSE } from './helpers/responses-support.js';

/** An OpenAI Responses answer as OpenAI would write it, with a field no SDK knows yet. */
const NATIVE_RAW =
  '{"id":"resp_native1","object":"response","created_at":1730000000,"status":"completed","model":"gpt-5","output":[{"type":"message","id":"msg_n1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Native hello.","annotations":[]}]}],"usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7},"future_field":{"kept":true}}';
const NATIVE_STREAM = [
  frame('response.created', { response: { id: 'resp_native2', object: 'response', status: 'in_progress', output: [] }, sequence_number: 0 }),
  frame('response.output_text.delta', {
    item_id: 'msg_n2',
    output_index: 0,
    content_index: 0,
    delta: 'Native',
    sequence_number: 1,
    future_event_field: 1,
  }),
  frame('response.completed', {
    response: { id: 'resp_native2', object: 'response', status: 'completed', output: [], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } },
    sequence_number: 2,
  }),
];

const WEATHER = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

describe('/v1/responses end to end, through the openai SDK', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let oai: Fake;
  let ant: Fake;
  const quiet = new Writable({ write: (_c, _e, done) => done() });

  before(async () => {
    oai = await new Fake().start();
    ant = await new Fake().start();
    gw = await startGateway({
      config: { plugins: [{ module: '@waygate/responses-api', options: { store: { path: ':memory:' } } }] },
      port: 0,
      logger: createLogger({ level: 'error', destination: quiet }),
      env: {},
    });
  });
  after(async () => {
    await gw?.close(0);
    await oai?.close();
    await ant?.close();
  });
  beforeEach(() => {
    oai.seen.length = 0;
    ant.seen.length = 0;
    ant.reply = anthropicReply;
  });

  const client = (headers: Record<string, string>) =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test-1234567890', maxRetries: 0, defaultHeaders: headers });
  const toOpenAI = () => client({ 'x-waygate-provider': 'openai', 'x-waygate-custom-host': `${oai.url}/v1` });
  const toAnthropic = () => client({ 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': `${ant.url}/v1` });

  describe('to an OpenAI target: passthrough', () => {
    it("forwards the client's bytes to /v1/responses and relays the answer with unknown fields", async () => {
      oai.reply = (_q, res) => sendJSON(res, 200, NATIVE_RAW);
      const params = { model: 'gpt-5', input: 'Hi', future_request_field: { a: 1 } } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming;
      const r = await toOpenAI().responses.create(params);
      expect(oai.seen[0]!.path).to.equal('/v1/responses');
      expect(oai.seen[0]!.body).to.deep.equal({ model: 'gpt-5', input: 'Hi', future_request_field: { a: 1 } });
      expect(r.output_text).to.equal('Native hello.');
      expect((r as unknown as { future_field: unknown }).future_field).to.deep.equal({ kept: true });
    });

    it('relays the SSE stream as it is', async () => {
      oai.reply = (_q, res) => sendSSE(res, NATIVE_STREAM);
      const res = await fetch(`${gw.url}/v1/responses`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer sk-x',
          'x-waygate-provider': 'openai',
          'x-waygate-custom-host': `${oai.url}/v1`,
        },
        body: JSON.stringify({ model: 'gpt-5', input: 'Hi', stream: true }),
      });
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal(NATIVE_STREAM.join(''));
    });

    it('passes retrieve, input_items and delete through to the provider', async () => {
      const c = toOpenAI();
      oai.reply = (_q, res) => sendJSON(res, 200, NATIVE_RAW);
      expect((await c.responses.retrieve('resp_native1')).output_text).to.equal('Native hello.');
      oai.reply = (_q, res) => sendJSON(res, 200, '{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}');
      expect((await c.responses.inputItems.list('resp_native1')).data).to.deep.equal([]);
      oai.reply = (_q, res) => sendJSON(res, 200, '{"id":"resp_native1","object":"response.deleted","deleted":true}');
      await c.responses.delete('resp_native1');
      expect(oai.seen.map((q) => q.path)).to.deep.equal([
        '/v1/responses/resp_native1',
        '/v1/responses/resp_native1/input_items',
        '/v1/responses/resp_native1',
      ]);
    });
  });

  describe('to an Anthropic target: bridged through chat.completions', () => {
    it('answers a JSON request as a Response, with usage', async () => {
      const r = await toAnthropic().responses.create({ model: 'claude-x', instructions: 'Be brief.', input: 'Hi', max_output_tokens: 100 });
      expect(ant.seen[0]!.path).to.equal('/v1/messages');
      expect(ant.seen[0]!.body.system).to.satisfy((s: unknown) => JSON.stringify(s).includes('Be brief.'));
      expect(ant.seen[0]!.body.max_tokens).to.equal(100);
      expect(r.id).to.match(/^resp_/);
      expect(r.object).to.equal('response');
      expect(r.status).to.equal('completed');
      expect(r.output_text).to.equal('Hello from Claude.');
      expect(r.usage).to.deep.include({ input_tokens: 15, output_tokens: 3, total_tokens: 18 });
      expect(r.usage!.input_tokens_details.cached_tokens).to.equal(4);
    });

    it('streams the typed events (responses.stream)', async () => {
      const stream = toAnthropic().responses.stream({ model: 'claude-x', input: 'Hi' });
      const types: string[] = [];
      const seqs: number[] = [];
      for await (const ev of stream) {
        types.push(ev.type);
        seqs.push(ev.sequence_number);
      }
      const final = await stream.finalResponse();
      expect(types[0]).to.equal('response.created');
      expect(types).to.include.members(['response.output_text.delta', 'response.output_text.done', 'response.output_item.done']);
      expect(types.at(-1)).to.equal('response.completed');
      expect(seqs).to.deep.equal(seqs.map((_, i) => i));
      expect(final.output_text).to.equal('Hello from Claude.');
      expect(final.usage?.output_tokens).to.equal(3);
    });

    it('runs a function tool over two turns', async () => {
      const c = toAnthropic();
      const first = await c.responses.create({ model: 'claude-x', input: 'Weather in Oslo?', tools: [WEATHER] });
      const call = first.output.find((o) => o.type === 'function_call');
      expect(call).to.deep.include({ type: 'function_call', call_id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' });
      const second = await c.responses.create({
        model: 'claude-x',
        tools: [WEATHER],
        input: [{ role: 'user', content: 'Weather in Oslo?' }, call!, { type: 'function_call_output', call_id: 'toolu_1', output: '3°C' }],
      });
      expect(second.output_text).to.equal('It is 3°C in Oslo.');
      const sent = ant.seen[1]!.body.messages;
      expect(sent[1].content[0]).to.include({ type: 'tool_use', id: 'toolu_1', name: 'get_weather' });
    });

    it('streams a function call', async () => {
      const stream = toAnthropic().responses.stream({ model: 'claude-x', input: 'Weather?', tools: [WEATHER] });
      const deltas: string[] = [];
      stream.on('response.function_call_arguments.delta', (e) => deltas.push(e.delta));
      const final = await stream.finalResponse();
      expect(deltas.join('')).to.equal('{"city":"Oslo"}');
      expect(final.output[0]).to.deep.include({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' });
    });

    it('refuses a built-in tool with a 400 naming it', async () => {
      const err = await toAnthropic()
        .responses.create({ model: 'claude-x', input: 'x', tools: [{ type: 'web_search_preview' }] })
        .then(
          () => undefined,
          (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
        );
      expect(err?.status).to.equal(400);
      expect(err?.message).to.contain('web_search_preview');
      expect(ant.seen).to.have.length(0);
    });
  });

  it('falls back from an OpenAI target answering 500 to an Anthropic one, streaming', async () => {
    oai.reply = (_q, res) => sendJSON(res, 500, '{"error":{"message":"down","type":"server_error"}}');
    const config = JSON.stringify({
      strategy: { mode: 'fallback' },
      targets: [
        { provider: 'openai', custom_host: `${oai.url}/v1` },
        { provider: 'anthropic', custom_host: `${ant.url}/v1` },
      ],
    });
    const stream = client({ 'x-waygate-config': config }).responses.stream({ model: 'claude-x', input: 'Hi' });
    const final = await stream.finalResponse();
    expect(oai.seen).to.have.length(1);
    expect(ant.seen).to.have.length(1);
    expect(final.output_text).to.equal('Hello from Claude.');
  });

  describe('stored responses (bridged)', () => {
    it('continues from previous_response_id, and retrieves, lists input items and deletes', async () => {
      const c = toAnthropic();
      const first = await c.responses.create({ model: 'claude-x', input: 'Weather in Oslo?', tools: [WEATHER] });
      const call = first.output.find((o) => o.type === 'function_call')!;
      const second = await c.responses.create({
        model: 'claude-x',
        tools: [WEATHER],
        previous_response_id: first.id,
        input: [{ type: 'function_call_output', call_id: (call as { call_id: string }).call_id, output: '3°C' }],
      });
      expect(second.output_text).to.equal('It is 3°C in Oslo.');
      expect(second.previous_response_id).to.equal(first.id);
      const sent = ant.seen[1]!.body.messages;
      expect(sent[0]).to.deep.include({ role: 'user' });
      expect(sent[1].content[0]).to.include({ type: 'tool_use', id: 'toolu_1' });

      const got = await c.responses.retrieve(second.id);
      expect(got.id).to.equal(second.id);
      expect(got.output_text).to.equal('It is 3°C in Oslo.');
      const items = await c.responses.inputItems.list(second.id);
      expect(items.data.map((i) => i.type)).to.deep.equal(['function_call_output', 'function_call', 'message']);
      await c.responses.delete(second.id);
      const gone = await c.responses.retrieve(second.id).then(
        () => undefined,
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
      expect(gone?.status).to.equal(404);
    });

    it('stores a streamed response, and not one with store: false', async () => {
      const c = toAnthropic();
      const final = await c.responses.stream({ model: 'claude-x', input: 'Hi' }).finalResponse();
      expect((await c.responses.retrieve(final.id)).output_text).to.equal('Hello from Claude.');
      const next = await c.responses.stream({ model: 'claude-x', input: 'Again', previous_response_id: final.id }).finalResponse();
      expect(next.previous_response_id).to.equal(final.id);
      expect(ant.seen[1]!.body.messages.map((m: { role: string }) => m.role)).to.deep.equal(['user', 'assistant', 'user']);
      const unstored = await c.responses.create({ model: 'claude-x', input: 'Hi', store: false });
      const err = await c.responses.retrieve(unstored.id).then(
        () => undefined,
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
      expect(err?.status).to.equal(404);
    });

    it('refuses an unknown previous_response_id with a 404', async () => {
      const err = await toAnthropic()
        .responses.create({ model: 'claude-x', input: 'x', previous_response_id: 'resp_nope' })
        .then(
          () => undefined,
          (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
        );
      expect(err?.status).to.equal(404);
      expect(ant.seen).to.have.length(0);
    });
  });
});
