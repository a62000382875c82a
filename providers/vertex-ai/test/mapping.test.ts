// Request and answer translation for both publishers, embeddings, the Messages API (Claude passed
// through, Gemini dispatched to the gateway's bridge) and error mapping: pure functions, no network.
import assert from 'node:assert/strict';
import { GatewayError } from '@waygate/core';
import type { BuildInput, EndpointAdapter, SSEEvent } from '@waygate/core';
import { createVertexProvider, mapVertexError, toOpenAIEmbeddings, toVertexEmbedRequest, VERTEX_ANTHROPIC_VERSION } from '../src/index.js';
import { makeInput } from './helpers.js';

const NODE = { vertex_project_id: 'my-proj', vertex_region: 'us-east5' };
const BASE = 'https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-east5/publishers';
const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

const provider = createVertexProvider();
const chat = provider.endpoints['chat.completions']!;
const embeddings = provider.endpoints.embeddings!;
const messages = provider.endpoints.messages!;
const input = (body: Record<string, unknown>, headers: Record<string, string> = {}) => makeInput(body, { apiKey: 'ya29.tok', node: NODE, headers });

function collect(events: Array<SSEEvent | SSEEvent[] | undefined>): any[] {
  return events.flatMap((e) => (e === undefined ? [] : Array.isArray(e) ? e : [e])).map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));
}

describe('vertex-ai: Gemini chat', () => {
  it('builds generateContent with the Gemini body', () => {
    const req = chat.build(input({ model: 'gemini-2.0-flash', messages: MESSAGES, temperature: 0.2, max_tokens: 50 }));
    assert.equal(req.method, 'POST');
    assert.equal(req.url, `${BASE}/google/models/gemini-2.0-flash:generateContent`);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.body as string), {
      contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { maxOutputTokens: 50, temperature: 0.2 },
    });
  });

  it('streams with streamGenerateContent?alt=sse and no stream field in the body', () => {
    const req = chat.build(input({ model: 'gemini-2.0-flash', messages: MESSAGES, stream: true }));
    assert.equal(req.url, `${BASE}/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse`);
    assert.equal(JSON.parse(req.body as string).stream, undefined);
  });

  it('maps the answer and the stream with the Google translation', () => {
    const i = input({ model: 'gemini-2.0-flash', messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
    const json = chat.mapResponse!(
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'Hello!' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
        modelVersion: 'gemini-2.0-flash-001',
        responseId: 'r1',
      },
      i,
    ) as any;
    assert.equal(json.object, 'chat.completion');
    assert.equal(json.choices[0].message.content, 'Hello!');
    assert.equal(json.choices[0].finish_reason, 'stop');
    assert.deepEqual([json.usage.prompt_tokens, json.usage.completion_tokens], [5, 2]);

    const t = chat.createStreamTransformer!(i);
    const out = collect([
      t.transform({ data: JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }] }) }),
      t.transform({
        data: JSON.stringify({
          candidates: [{ content: { role: 'model', parts: [{ text: 'lo' }] }, finishReason: 'STOP', index: 0 }],
          usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2 },
        }),
      }),
      t.flush!(),
    ]);
    assert.equal(out.at(-1), '[DONE]');
    const chunks = out.slice(0, -1);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Hello');
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'stop');
    assert.equal(chunks.at(-1).usage.total_tokens, 7);
  });
});

describe('vertex-ai: Claude chat', () => {
  it('builds rawPredict with an Anthropic body: anthropic_version in the body, no model', () => {
    const req = chat.build(input({ model: 'claude-sonnet-4-5@20250929', messages: MESSAGES, temperature: 0.2, max_tokens: 50 }));
    assert.equal(req.url, `${BASE}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`);
    assert.equal(req.headers.authorization, 'Bearer ya29.tok');
    assert.equal(req.headers['anthropic-version'], undefined);
    assert.equal(req.headers['x-api-key'], undefined);
    assert.deepEqual(JSON.parse(req.body as string), {
      anthropic_version: VERTEX_ANTHROPIC_VERSION,
      max_tokens: 50,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Say hello' }],
      temperature: 0.2,
    });
  });

  it('streams with streamRawPredict and stream: true in the body', () => {
    const req = chat.build(input({ model: 'anthropic/claude-3-5-haiku@20241022', messages: MESSAGES, stream: true }));
    assert.equal(req.url, `${BASE}/anthropic/models/claude-3-5-haiku@20241022:streamRawPredict`);
    const body = JSON.parse(req.body as string);
    assert.equal(body.stream, true);
    assert.equal(body.model, undefined);
    assert.equal(body.max_tokens, 4096);
  });

  it("passes anthropic-beta from the config or Waygate's/Portkey's header", () => {
    const req = chat.build(input({ model: 'claude-sonnet-4-5', messages: MESSAGES }, { 'x-portkey-anthropic-beta': 'context-1m-2025-08-07' }));
    assert.equal(req.headers['anthropic-beta'], 'context-1m-2025-08-07');
  });

  it('maps the answer and the stream with the Anthropic translation', () => {
    const i = input({ model: 'claude-sonnet-4-5', messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
    const json = chat.mapResponse!(
      {
        id: 'msg_vrtx_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [{ type: 'text', text: 'Hello!' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 12, output_tokens: 6 },
      },
      i,
    ) as any;
    assert.equal(json.id, 'msg_vrtx_01');
    assert.equal(json.choices[0].message.content, 'Hello!');
    assert.equal(json.choices[0].finish_reason, 'stop');
    assert.equal(json.usage.total_tokens, 18);

    const t = chat.createStreamTransformer!(i);
    const ev = (type: string, data: object) => ({ event: type, data: JSON.stringify({ type, ...data }) });
    const out = collect([
      t.transform(ev('message_start', { message: { id: 'msg_vrtx_02', model: 'claude-sonnet-4-5', usage: { input_tokens: 9, output_tokens: 1 } } })),
      t.transform(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })),
      t.transform(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Olá!' } })),
      t.transform(ev('content_block_stop', { index: 0 })),
      t.transform(ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } })),
      t.transform(ev('message_stop', {})),
      t.flush?.(),
    ]);
    assert.equal(out.at(-1), '[DONE]');
    const chunks = out.slice(0, -1);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Olá!');
    assert.equal(chunks.at(-1).usage.completion_tokens, 3);
  });
});

describe('vertex-ai: embeddings', () => {
  it('builds :predict with instances and outputDimensionality', () => {
    const req = embeddings.build(input({ model: 'text-embedding-005', input: ['a', 'b'], dimensions: 256, task_type: 'RETRIEVAL_QUERY' }));
    assert.equal(req.url, `${BASE}/google/models/text-embedding-005:predict`);
    assert.deepEqual(JSON.parse(req.body as string), {
      instances: [
        { content: 'a', task_type: 'RETRIEVAL_QUERY' },
        { content: 'b', task_type: 'RETRIEVAL_QUERY' },
      ],
      parameters: { outputDimensionality: 256 },
    });
    assert.deepEqual(toVertexEmbedRequest({ input: 'one' }), { instances: [{ content: 'one' }] });
  });

  it('maps predictions to OpenAI embeddings with token usage', () => {
    const out = toOpenAIEmbeddings(
      {
        predictions: [
          { embeddings: { values: [0.1, 0.2], statistics: { token_count: 3, truncated: false } } },
          { embeddings: { values: [0.3, 0.4], statistics: { token_count: 4, truncated: false } } },
        ],
        metadata: { billableCharacterCount: 12 },
      },
      'text-embedding-005',
    );
    assert.deepEqual(out, {
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
        { object: 'embedding', index: 1, embedding: [0.3, 0.4] },
      ],
      model: 'text-embedding-005',
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
  });

  it("encodes vectors as base64 float32 when asked (the openai SDK's default)", () => {
    const out = toOpenAIEmbeddings({ predictions: [{ embeddings: { values: [0.5, -1, 2.25], statistics: { token_count: 1 } } }] }, 'm', 'base64');
    const buf = Buffer.from((out.data as { embedding: string }[])[0]!.embedding, 'base64');
    assert.deepEqual([buf.readFloatLE(0), buf.readFloatLE(4), buf.readFloatLE(8)], [0.5, -1, 2.25]);
    const mapped = embeddings.mapResponse!(
      { predictions: [{ embeddings: { values: [0.5] } }] },
      input({ model: 'text-embedding-005', input: 'x', encoding_format: 'base64' }),
    ) as any;
    assert.equal(typeof mapped.data[0].embedding, 'string');
  });

  it('refuses token arrays and Claude models', () => {
    assert.throws(
      () => embeddings.build(input({ model: 'text-embedding-005', input: [[1, 2]] })),
      (e: unknown) => e instanceof GatewayError && e.status === 400,
    );
    assert.throws(
      () => embeddings.build(input({ model: 'claude-sonnet-4-5', input: 'x' })),
      (e: unknown) => e instanceof GatewayError && e.status === 400 && e.code === 'unsupported_endpoint',
    );
  });
});

describe('vertex-ai: Anthropic Messages, Claude passed through', () => {
  const body = {
    model: 'claude-sonnet-4-5@20250929',
    max_tokens: 100,
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    thinking: { type: 'enabled', budget_tokens: 1024 },
    some_future_field: { x: 1 },
  };

  it("sends the client's body untouched except model (into the URL) and anthropic_version; the answer and stream are not mapped", () => {
    const i = input(body);
    const req = messages.build(i);
    assert.equal(req.url, `${BASE}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`);
    const { model: _m, ...rest } = body;
    assert.deepEqual(JSON.parse(req.body as string), { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest });
    const answer = { id: 'msg_1', type: 'message', content: [] };
    assert.equal(messages.mapResponse!(answer, i), answer, 'the answer is returned as it came');
    assert.equal(messages.createStreamTransformer!(input({ ...body, stream: true })), undefined, 'no transformer: the stream passes through');
  });

  it("streams with streamRawPredict; the client's anthropic-beta header is forwarded", () => {
    const req = messages.build(input({ ...body, stream: true }, { 'anthropic-beta': 'interleaved-thinking-2025-05-14' }));
    assert.equal(req.url, `${BASE}/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`);
    assert.equal(JSON.parse(req.body as string).stream, true);
    assert.equal(req.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
  });

  it('keeps an anthropic_version the client set', () => {
    const req = messages.build(input({ ...body, anthropic_version: 'vertex-2099-01-01' }));
    assert.equal(JSON.parse(req.body as string).anthropic_version, 'vertex-2099-01-01');
  });
});

describe("vertex-ai: Anthropic Messages, Gemini through the gateway's bridge", () => {
  const body = { model: 'gemini-2.0-flash', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] };

  /** A stand-in for the gateway's Messages definition: its bridge records what it wraps and what the wrapped adapter is asked. */
  function fakeGateway() {
    const calls: string[] = [];
    const wrapped: Array<{ inner: EndpointAdapter; provider: string }> = [];
    const transformer = { transform: () => undefined };
    const bridge = {
      via: 'chat.completions',
      wrap(inner: EndpointAdapter, provider: string): EndpointAdapter {
        wrapped.push({ inner, provider });
        return {
          prepare: () => void calls.push('prepare'),
          build: () => (calls.push('build'), { url: 'https://bridged.example/', method: 'POST', headers: {}, body: '{}' }),
          mapResponse: (json) => (calls.push('mapResponse'), { bridged: json }),
          createStreamTransformer: () => (calls.push('createStreamTransformer'), transformer),
        };
      },
    };
    const definition = { id: 'messages', routes: [], bridge };
    const at = (b: Record<string, unknown>) => ({ ...input(b), definition }) as unknown as BuildInput;
    return { calls, wrapped, transformer, at };
  }

  it("every step the request reaches goes to the bridge wrapped around this provider's chat adapter", async () => {
    const g = fakeGateway();
    const i = g.at(body);
    await messages.prepare!(i);
    assert.equal(messages.build(i).url, 'https://bridged.example/');
    assert.deepEqual(messages.mapResponse!({ candidates: [] }, i), { bridged: { candidates: [] } });
    assert.equal(messages.createStreamTransformer!(i), g.transformer);
    assert.deepEqual(g.calls, ['prepare', 'build', 'mapResponse', 'createStreamTransformer']);
    assert.equal(g.wrapped.length, 1);
    assert.equal(g.wrapped[0]!.inner, chat, "the bridge wraps the provider's own chat.completions adapter");
    assert.equal(g.wrapped[0]!.provider, 'vertex-ai');
  });

  it('wraps once per gateway, not per request; Claude requests never touch the bridge', async () => {
    const g = fakeGateway();
    for (let n = 0; n < 5; n++) {
      const i = g.at(body);
      await messages.prepare!(i);
      messages.build(i);
    }
    const claude = g.at({ ...body, model: 'claude-sonnet-4-5@20250929' });
    assert.match(messages.build(claude).url, /\/publishers\/anthropic\/models\/claude-sonnet-4-5@20250929:rawPredict$/);
    assert.equal(g.wrapped.length, 1);
    assert.equal(g.calls.filter((c) => c === 'build').length, 5);
    // Another gateway (another Messages definition) gets its own wrap.
    const other = fakeGateway();
    messages.build(other.at(body));
    assert.equal(other.wrapped.length, 1);
  });

  it("is a 400 unsupported_endpoint when the gateway's Messages endpoint has no bridge", () => {
    assert.throws(
      () => messages.build(input(body)),
      (e: unknown) =>
        e instanceof GatewayError && e.status === 400 && e.code === 'unsupported_endpoint' && /Gemini model.*cannot translate/.test(e.message),
    );
  });

  it('maps errors of both shapes: mapError has no request to dispatch on', () => {
    assert.equal(messages.mapError, mapVertexError);
  });
});

describe('vertex-ai: errors', () => {
  it("reads Claude's Anthropic-shaped errors as Anthropic's", () => {
    const e = mapVertexError(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, {});
    assert.equal(e.status, 529);
    assert.equal(e.message, 'Overloaded');
    assert.equal(e.retryable, true);
    const bad = mapVertexError(400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } }, {});
    assert.equal(bad.retryable, false);
  });

  it("reads Vertex's own google.rpc errors (also for Claude models) as Google's", () => {
    const quota = mapVertexError(
      429,
      {
        error: {
          code: 429,
          message: 'Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model',
          status: 'RESOURCE_EXHAUSTED',
        },
      },
      {},
    );
    assert.equal(quota.status, 429);
    assert.match(quota.message, /Quota exceeded/);
    assert.equal(quota.retryable, true);
    const denied = mapVertexError(403, [{ error: { code: 403, message: 'Permission denied on resource project p.', status: 'PERMISSION_DENIED' } }], {});
    assert.equal(denied.status, 403);
    assert.match(denied.message, /Permission denied/);
    assert.equal(denied.retryable, false);
  });
});
