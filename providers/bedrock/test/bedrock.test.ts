// Unit tests of the Bedrock adapter's pure pieces: auth and host resolution, request mapping, signing of
// the built request, stream transformer edge cases.
import assert from 'node:assert/strict';
import type { BuildInput, SSEEvent } from '@waygate/core';
import { chatCompletions, embeddings } from '../src/adapter.js';
import { mapBedrockError } from '../src/errors.js';
import { DEFAULT_BASE_URL, toConverseRequest } from '../src/request.js';
import { BedrockStreamTransformer } from '../src/stream.js';
import { signV4 } from '../src/sigv4.js';

const KEYS = { aws_access_key_id: 'AKIDEXAMPLE', aws_secret_access_key: 'secret' };

function input(
  body: Record<string, unknown>,
  node: Record<string, unknown> = KEYS,
  opts: { headers?: Record<string, string>; apiKey?: string; baseURL?: string; stream?: boolean } = {},
): BuildInput {
  return {
    ctx: { id: 'req-1', startedAt: Date.parse('2025-01-02T03:04:05Z'), headers: opts.headers ?? {}, stream: opts.stream ?? false } as never,
    target: {
      provider: 'bedrock',
      node: { provider: 'bedrock', ...node },
      path: 'config',
      baseURL: opts.baseURL ?? DEFAULT_BASE_URL,
      apiKey: opts.apiKey,
    },
    body,
  };
}

const CHAT = { model: 'anthropic.claude-3-haiku-20240307-v1:0', messages: [{ role: 'user', content: 'hi' }] };

describe('bedrock adapter', () => {
  it('builds the regional host and a signature that verifies', () => {
    const inp = input(CHAT, { ...KEYS, aws_region: 'eu-central-1' });
    const req = chatCompletions.build(inp);
    assert.equal(req.url, 'https://bedrock-runtime.eu-central-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    assert.equal(req.headers['x-amz-date'], '20250102T030405Z');
    const again = signV4({
      method: 'POST',
      url: req.url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: req.body,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      region: 'eu-central-1',
      service: 'bedrock',
      date: Date.parse('2025-01-02T03:04:05Z'),
    });
    assert.equal(req.headers.authorization, again.headers.authorization);
    assert.deepEqual(chatCompletions.build(inp), req, 'pure');
  });

  it('takes credentials and region from Portkey headers', () => {
    const req = chatCompletions.build(
      input(
        CHAT,
        {},
        {
          headers: {
            'x-portkey-aws-access-key-id': 'AKIDHDR',
            'x-portkey-aws-secret-access-key': 's',
            'x-portkey-aws-session-token': 'tok',
            'x-portkey-aws-region': 'ap-south-1',
          },
        },
      ),
    );
    assert.match(req.url, /^https:\/\/bedrock-runtime\.ap-south-1\.amazonaws\.com\//);
    assert.match(req.headers.authorization!, /Credential=AKIDHDR\/20250102\/ap-south-1\/bedrock\/aws4_request/);
    assert.equal(req.headers['x-amz-security-token'], 'tok');
  });

  it('rejects a region that is not [a-z0-9-]+ (it goes into a hostname)', () => {
    for (const r of ['us-east-1.evil.com', 'US-EAST-1', 'a/b', 'x@y']) {
      assert.throws(
        () => chatCompletions.build(input(CHAT, { ...KEYS, aws_region: r })),
        (e: any) => e.status === 400 && /aws_region/.test(e.message),
        r,
      );
    }
  });

  it('without an access key pair, sends a Bedrock API key as a Bearer token, else fails with 401', () => {
    const req = chatCompletions.build(input(CHAT, {}, { apiKey: 'bedrock-api-key' }));
    assert.equal(req.headers.authorization, 'Bearer bedrock-api-key');
    assert.throws(
      () => chatCompletions.build(input(CHAT, {})),
      (e: any) => e.status === 401 && e.code === 'missing_credentials',
    );
    assert.throws(
      () => chatCompletions.build(input(CHAT, { aws_access_key_id: 'A' })),
      (e: any) => e.status === 400,
    );
  });

  it('uses a custom host as given', () => {
    const req = chatCompletions.build(input(CHAT, KEYS, { baseURL: 'https://vpce-123.bedrock-runtime.us-east-1.vpce.amazonaws.com/' }));
    assert.equal(req.url, 'https://vpce-123.bedrock-runtime.us-east-1.vpce.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
  });

  it('maps images, tool history and tool results, merging turns so roles alternate', () => {
    const out = toConverseRequest({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
        { role: 'tool', tool_call_id: 't1', content: 'found' },
        { role: 'user', content: 'and?' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      top_p: 0.9,
      max_completion_tokens: 10,
    });
    assert.deepEqual(out.messages, [
      { role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: 'iVBORw0K' } } }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'lookup', input: { q: 'x' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'found' }] } }, { text: 'and?' }] },
    ]);
    assert.deepEqual(out.toolConfig.toolChoice, { tool: { name: 'lookup' } });
    assert.deepEqual(out.inferenceConfig, { maxTokens: 10, topP: 0.9 });
    assert.throws(
      () => toConverseRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }),
      /base64/,
    );
    assert.equal(
      toConverseRequest({ messages: CHAT.messages, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'none' }).toolConfig,
      undefined,
    );
    assert.deepEqual(
      toConverseRequest({ messages: CHAT.messages, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' }).toolConfig
        .toolChoice,
      { any: {} },
    );
  });

  it('streams to /converse-stream when the request streams', () => {
    const req = chatCompletions.build(input(CHAT, KEYS, { stream: true }));
    assert.match(req.url, /\/converse-stream$/);
    assert.equal(req.headers.accept, 'application/vnd.amazon.eventstream');
  });

  it('turns an in-stream exception frame into an error event', () => {
    const t = new BedrockStreamTransformer(input(CHAT));
    const ev = (event: string, d: unknown): SSEEvent => ({ event, data: JSON.stringify(d) });
    const first = t.transform(ev('messageStart', { role: 'assistant' }))!;
    assert.equal(JSON.parse(first[0]!.data).choices[0].delta.role, 'assistant');
    const err = t.transform(ev('exception:throttlingException', { message: 'slow down' }))!;
    assert.match(JSON.parse(err[0]!.data).error.message, /throttlingException: slow down/);
    assert.equal(t.flush(), undefined);
  });

  it('ends a stream without metadata after messageStop, and reports a cut stream as an error', () => {
    const ev = (event: string, d: unknown): SSEEvent => ({ event, data: JSON.stringify(d) });
    const a = new BedrockStreamTransformer(input(CHAT));
    a.transform(ev('messageStart', { role: 'assistant' }));
    a.transform(ev('messageStop', { stopReason: 'max_tokens' }));
    const end = a.flush() as SSEEvent[];
    assert.equal(end[end.length - 1]!.data, '[DONE]');
    const b = new BedrockStreamTransformer(input(CHAT));
    b.transform(ev('messageStart', { role: 'assistant' }));
    assert.match((b.flush() as SSEEvent).data, /ended before messageStop/);
  });

  it('maps errors by x-amzn-errortype or __type', () => {
    assert.equal(mapBedrockError(400, { __type: 'com.amazon.coral.availability#ThrottlingException', message: 'x' }, {}).retryable, true);
    assert.equal(mapBedrockError(424, { message: 'm' }, { 'x-amzn-errortype': 'ModelErrorException:http://x' }).retryable, false);
    assert.equal(mapBedrockError(408, { message: 'm' }, {}).retryable, true);
  });

  it('embeds with Titan through InvokeModel, one input per request', () => {
    const req = embeddings.build(input({ model: 'amazon.titan-embed-text-v1', input: ['hi'] }));
    assert.match(req.url, /\/model\/amazon\.titan-embed-text-v1\/invoke$/);
    assert.deepEqual(JSON.parse(req.body as string), { inputText: 'hi' });
    assert.throws(() => embeddings.build(input({ model: 'amazon.titan-embed-text-v1', input: ['a', 'b'] })), /one string input/);
    const out = embeddings.mapResponse!({ embedding: [1, 2], inputTextTokenCount: 2 }, input({ model: 'm', input: 'x' })) as any;
    assert.deepEqual(out.usage, { prompt_tokens: 2, total_tokens: 2 });
  });

  it('answers encoding_format base64 (the openai SDK default) with float32 little-endian vectors', () => {
    const floats = (b64: string) => {
      const buf = Buffer.from(b64, 'base64');
      return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
    };
    const titan = embeddings.mapResponse!(
      { embedding: [0.5, -0.1], inputTextTokenCount: 3 },
      input({ model: 'amazon.titan-embed-text-v2:0', input: 'x', encoding_format: 'base64' }),
    ) as any;
    assert.equal(typeof titan.data[0].embedding, 'string');
    assert.deepEqual(floats(titan.data[0].embedding), [0.5, Math.fround(-0.1)]);
    assert.deepEqual(titan.usage, { prompt_tokens: 3, total_tokens: 3 });
    const co = embeddings.mapResponse!(
      {
        embeddings: [
          [1, 2],
          [3, 4],
        ],
      },
      input({ model: 'cohere.embed-english-v3', input: ['a', 'b'], encoding_format: 'base64' }),
    ) as any;
    assert.deepEqual(
      co.data.map((d: any) => floats(d.embedding)),
      [
        [1, 2],
        [3, 4],
      ],
    );
    const plain = embeddings.mapResponse!(
      { embedding: [0.5, -0.1] },
      input({ model: 'amazon.titan-embed-text-v2:0', input: 'x', encoding_format: 'float' }),
    ) as any;
    assert.deepEqual(plain.data[0].embedding, [0.5, -0.1]);
  });

  it('embeds with Cohere on Bedrock, several inputs at once', () => {
    const inp = input({ model: 'cohere.embed-english-v3', input: ['a', 'b'], input_type: 'search_query' });
    const req = embeddings.build(inp);
    assert.match(req.url, /\/model\/cohere\.embed-english-v3\/invoke$/);
    assert.deepEqual(JSON.parse(req.body as string), { texts: ['a', 'b'], input_type: 'search_query' });
    const out = embeddings.mapResponse!(
      {
        id: 'x',
        response_type: 'embeddings_floats',
        texts: ['a', 'b'],
        embeddings: [
          [1, 2],
          [3, 4],
        ],
      },
      inp,
    ) as any;
    assert.deepEqual(
      out.data.map((d: any) => [d.index, d.embedding]),
      [
        [0, [1, 2]],
        [1, [3, 4]],
      ],
    );
    const typed = embeddings.mapResponse!({ response_type: 'embeddings_by_type', embeddings: { float: [[5]] } }, inp) as any;
    assert.deepEqual(typed.data[0].embedding, [5]);
  });
});
