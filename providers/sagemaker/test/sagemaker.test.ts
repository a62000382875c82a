// The SageMaker adapter's pure pieces (endpoint name, option headers, host, signing, error mapping, the
// PayloadPart decoder) and, through a real gateway loaded from a config, a loopback SageMaker Runtime that
// checks each request's SigV4 signature as AWS would and answers JSON, event streams, stream exceptions,
// cut streams and signature errors.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError, createLogger, startGateway } from '@waygate/core';
import type { BuildInput, Gateway, SSEEvent } from '@waygate/core';
import { encodeException, encodeMessage, signV4 } from '@waygate/provider-bedrock';
import { chatCompletions, embeddings } from '../src/adapter.js';
import { mapSageMakerError, redactAws } from '../src/errors.js';
import { DEFAULT_BASE_URL } from '../src/request.js';
import { ENDPOINT, KEYS, jsonFixture } from './fixtures.js';

const STREAM_HEADERS = jsonFixture('stream-headers');
const START = Date.parse('2025-01-02T03:04:05Z');
const CHAT = { model: 'lmi', messages: [{ role: 'user', content: 'hi' }] };

function input(
  body: Record<string, unknown> | undefined,
  node: Record<string, unknown> = { ...KEYS, amzn_sagemaker_endpoint_name: ENDPOINT },
  opts: { headers?: Record<string, string>; baseURL?: string; stream?: boolean; apiKey?: string } = {},
): BuildInput {
  return {
    ctx: { id: 'req-1', startedAt: START, headers: opts.headers ?? {}, stream: opts.stream ?? false } as never,
    target: {
      provider: 'sagemaker',
      node: { provider: 'sagemaker', ...node },
      path: 'config',
      baseURL: opts.baseURL ?? DEFAULT_BASE_URL,
      apiKey: opts.apiKey,
    },
    body,
  };
}

const thrown = (fn: () => unknown): GatewayError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
};

/** One PayloadPart frame, as SageMaker sends it. */
const part = (bytes: string | Uint8Array) =>
  encodeMessage({ ':event-type': 'PayloadPart', ':content-type': 'application/octet-stream', ':message-type': 'event' }, bytes);

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'lmi', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

async function collect(body: Uint8Array[]): Promise<SSEEvent[]> {
  async function* gen() {
    yield* body;
  }
  const out: SSEEvent[] = [];
  for await (const ev of chatCompletions.decodeStream!(gen(), input(CHAT, undefined, { stream: true }))) out.push(ev);
  return out;
}

describe('sagemaker adapter', () => {
  it('posts to the regional runtime host, signed for the service sagemaker (the signature recomputes)', () => {
    const req = chatCompletions.build(input(CHAT, { ...KEYS, aws_region: 'eu-west-1', amzn_sagemaker_endpoint_name: 'llama-3-8b' }));
    assert.equal(req.url, 'https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/llama-3-8b/invocations');
    assert.equal(req.body, JSON.stringify(CHAT));
    assert.equal(req.headers['x-amz-date'], '20250102T030405Z');
    assert.equal(req.headers['x-amz-security-token'], KEYS.aws_session_token);
    assert.match(
      req.headers.authorization!,
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250102\/eu-west-1\/sagemaker\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    const again = signV4({
      method: 'POST',
      url: req.url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: req.body,
      credentials: { accessKeyId: KEYS.aws_access_key_id, secretAccessKey: KEYS.aws_secret_access_key, sessionToken: KEYS.aws_session_token },
      region: 'eu-west-1',
      service: 'sagemaker',
      date: START,
    });
    assert.equal(req.headers.authorization, again.headers.authorization);
    assert.deepEqual(chatCompletions.build(input(CHAT, { ...KEYS, aws_region: 'eu-west-1', amzn_sagemaker_endpoint_name: 'llama-3-8b' })), req, 'pure');
  });

  it('streams through invocations-response-stream, asking for an event stream', () => {
    const req = chatCompletions.build(input({ ...CHAT, stream: true }, undefined, { stream: true }));
    assert.equal(req.url, `https://runtime.sagemaker.us-west-2.amazonaws.com/endpoints/${ENDPOINT}/invocations-response-stream`);
    assert.equal(req.headers.accept, 'application/vnd.amazon.eventstream');
    assert.equal(JSON.parse(String(req.body)).stream, true);
  });

  it("sends the client's bytes untouched when nothing changed them (and signs those bytes)", () => {
    const raw = new TextEncoder().encode('{"model":"lmi","messages":[{"role":"user","content":"hi"}],"x_unknown":1}');
    const req = chatCompletions.build({ ...input(CHAT), rawBody: raw });
    assert.equal(req.body, raw);
    const again = signV4({
      method: 'POST',
      url: req.url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: raw,
      credentials: { accessKeyId: KEYS.aws_access_key_id, secretAccessKey: KEYS.aws_secret_access_key, sessionToken: KEYS.aws_session_token },
      region: 'us-west-2',
      service: 'sagemaker',
      date: START,
    });
    assert.equal(req.headers.authorization, again.headers.authorization);
  });

  it('takes the endpoint name from the request model when the target names none', () => {
    const req = embeddings.build(input({ model: 'bge-small-endpoint', input: 'x' }, KEYS));
    assert.match(req.url, /\/endpoints\/bge-small-endpoint\/invocations$/);
  });

  it('refuses a missing or unsafe endpoint name with a 400 naming the option', () => {
    const none = thrown(() => chatCompletions.build(input({ messages: [] }, KEYS)));
    assert.deepEqual([none.status, none.code, none.param], [400, 'invalid_config', 'amzn_sagemaker_endpoint_name']);
    for (const bad of ['../admin', 'a/b', 'my_llm', '-x', 'x-', 'a'.repeat(64), 'a?b=1']) {
      const err = thrown(() => chatCompletions.build(input(CHAT, { ...KEYS, amzn_sagemaker_endpoint_name: bad })));
      assert.deepEqual([err.status, err.code], [400, 'invalid_config'], bad);
    }
  });

  it('sends the SageMaker option headers the operation takes, signed, from the config or x-portkey- headers', () => {
    const node = {
      ...KEYS,
      amzn_sagemaker_endpoint_name: ENDPOINT,
      amzn_sagemaker_custom_attributes: 'trace_id=abc,accept_eula=true',
      amzn_sagemaker_target_model: 'model-a.tar.gz',
      amzn_sagemaker_inference_component: 'llama-ic-1',
      amzn_sagemaker_enable_explanations: '`true`',
    };
    const headers = { 'x-portkey-amzn-sagemaker-target-variant': 'variant-b', 'x-waygate-amzn-sagemaker-session-id': 'NEW_SESSION' };
    const req = chatCompletions.build(input(CHAT, node, { headers }));
    assert.equal(req.headers['x-amzn-sagemaker-custom-attributes'], 'trace_id=abc,accept_eula=true');
    assert.equal(req.headers['x-amzn-sagemaker-target-model'], 'model-a.tar.gz');
    assert.equal(req.headers['x-amzn-sagemaker-inference-component'], 'llama-ic-1');
    assert.equal(req.headers['x-amzn-sagemaker-enable-explanations'], '`true`');
    assert.equal(req.headers['x-amzn-sagemaker-target-variant'], 'variant-b');
    assert.equal(req.headers['x-amzn-sagemaker-session-id'], 'NEW_SESSION');
    assert.match(
      req.headers.authorization!,
      /SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token;x-amzn-sagemaker-custom-attributes;x-amzn-sagemaker-enable-explanations;x-amzn-sagemaker-inference-component;x-amzn-sagemaker-session-id;x-amzn-sagemaker-target-model;x-amzn-sagemaker-target-variant,/,
    );
    // InvokeEndpointWithResponseStream takes neither TargetModel nor EnableExplanations.
    const s = chatCompletions.build(input({ ...CHAT, stream: true }, node, { headers, stream: true }));
    assert.equal(s.headers['x-amzn-sagemaker-target-model'], undefined);
    assert.equal(s.headers['x-amzn-sagemaker-enable-explanations'], undefined);
    assert.equal(s.headers['x-amzn-sagemaker-inference-component'], 'llama-ic-1');
  });

  it('refuses an option header value that could break the request (CR, LF, non-ASCII, too long)', () => {
    for (const v of ['a\r\nx-evil: 1', 'caf\u00e9', 'x'.repeat(1025)]) {
      const err = thrown(() =>
        chatCompletions.build(input(CHAT, { ...KEYS, amzn_sagemaker_endpoint_name: ENDPOINT, amzn_sagemaker_custom_attributes: v })),
      );
      assert.deepEqual([err.status, err.param], [400, 'amzn_sagemaker_custom_attributes']);
    }
    const ic = thrown(() =>
      chatCompletions.build(input(CHAT, { ...KEYS, amzn_sagemaker_endpoint_name: ENDPOINT, amzn_sagemaker_inference_component: 'a/b' })),
    );
    assert.equal(ic.param, 'amzn_sagemaker_inference_component');
  });

  it('needs an AWS key pair (an api_key is no substitute) and says so without echoing anything', () => {
    const none = thrown(() => chatCompletions.build(input(CHAT, { amzn_sagemaker_endpoint_name: ENDPOINT }, { apiKey: 'sk-not-for-aws-123456' })));
    assert.deepEqual([none.status, none.code], [401, 'missing_credentials']);
    assert.match(none.message, /^sagemaker needs AWS credentials/);
    assert.doesNotMatch(none.message, /sk-not-for-aws|Bedrock API key/);
    const half = thrown(() => chatCompletions.build(input(CHAT, { aws_access_key_id: 'AKIDEXAMPLE', amzn_sagemaker_endpoint_name: ENDPOINT })));
    assert.deepEqual([half.status, half.code], [400, 'missing_credentials']);
    assert.doesNotMatch(half.message, /AKIDEXAMPLE/);
  });

  it('rejects a region that would change the host', () => {
    const err = thrown(() => chatCompletions.build(input(CHAT, { ...KEYS, aws_region: 'us-east-1.evil.com', amzn_sagemaker_endpoint_name: ENDPOINT })));
    assert.deepEqual([err.status, err.param], [400, 'aws_region']);
  });

  it('uses a custom host instead of the regional one, still signing for the region', () => {
    const req = chatCompletions.build(input(CHAT, undefined, { baseURL: 'https://vpce-1.runtime.sagemaker.us-west-2.vpce.amazonaws.com/' }));
    assert.equal(req.url, `https://vpce-1.runtime.sagemaker.us-west-2.vpce.amazonaws.com/endpoints/${ENDPOINT}/invocations`);
    assert.match(req.headers.authorization!, /\/us-west-2\/sagemaker\/aws4_request/);
  });
});

describe('sagemaker errors', () => {
  it('maps ModelError to the container status: 4xx not retryable, 429 and 5xx retryable; without one it stays a 424', () => {
    const e429 = mapSageMakerError(
      424,
      { Message: 'Received client error (429) from primary', OriginalStatusCode: 429, OriginalMessage: 'slow down' },
      { 'x-amzn-errortype': 'ModelError' },
    );
    assert.deepEqual([e429.status, e429.retryable, e429.message], [429, true, 'ModelError: the model container answered 429: slow down']);
    const bare = mapSageMakerError(424, { __type: 'ModelError', message: 'model failed' }, {});
    assert.deepEqual([bare.status, bare.retryable, bare.message], [424, false, 'ModelError: model failed']);
  });

  it('redacts what a signature error echoes: the canonical request (session token), key ids and signatures', () => {
    const echo =
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.\n\n' +
      "The Canonical String for this request should have been\n'POST\n/endpoints/my-llm/invocations\n\nhost:runtime\nx-amz-security-token:session-token-example-0123456789\n'\n\n" +
      "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20250102T030405Z\n20250102/us-west-2/sagemaker/aws4_request\nabc'\n";
    const err = mapSageMakerError(403, { message: echo }, { 'x-amzn-errortype': 'InvalidSignatureException' });
    assert.equal(err.status, 403);
    assert.equal(err.retryable, false);
    assert.match(err.message, /^InvalidSignatureException: The request signature we calculated does not match/);
    assert.doesNotMatch(err.message, /session-token-example|Canonical String|String-to-Sign|x-amz-security-token/);
    assert.doesNotMatch(JSON.stringify(err.upstream?.body), /session-token-example/);
    assert.equal(
      redactAws('key AKIAIOSFODNN7EXAMPLE and ASIAXXXXXXXXXXXXXXXX, Signature=0123456789abcdef0123'),
      'key [REDACTED] and [REDACTED], Signature=[REDACTED]',
    );
  });

  it('keeps an unknown error status and its retryability; a text body is kept (cut)', () => {
    const e = mapSageMakerError(502, 'bad gateway', {});
    assert.deepEqual([e.status, e.retryable, e.message], [502, true, 'bad gateway']);
    const n = mapSageMakerError(404, undefined, {});
    assert.deepEqual([n.status, n.retryable, n.message], [404, false, 'sagemaker answered status 404']);
  });
});

describe('sagemaker response streams', () => {
  const events = chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hi' }) + chunk({}, 'stop') + 'data: [DONE]\n\n';

  it('joins PayloadParts into whole events: one event split in two parts, and one byte per part', async () => {
    const cut = events.indexOf('"Hi"') + 2;
    const two = await collect([part(events.slice(0, cut)), part(events.slice(cut))]);
    const whole = await collect([part(events)]);
    assert.equal(two.length, 4);
    assert.deepEqual(two, whole);
    const bytes = new TextEncoder().encode(events);
    const perByte = await collect([...bytes].map((b) => part(Uint8Array.of(b))));
    assert.deepEqual(perByte, whole);
    // and the frames themselves arriving one byte at a time
    const frames = concat([part(events.slice(0, cut)), part(events.slice(cut))]);
    assert.deepEqual(await collect([...frames].map((b) => Uint8Array.of(b))), whole);
    assert.equal(JSON.parse(whole[1]!.data).choices[0].delta.content, 'Hi');
    assert.equal(whole[3]!.data, '[DONE]');
  });

  it('skips event types it does not know and empty parts', async () => {
    const other = encodeMessage({ ':event-type': 'Heartbeat', ':message-type': 'event' }, 'ignored');
    assert.deepEqual(await collect([other, part(''), part(events)]), await collect([part(events)]));
  });

  it('turns ModelStreamError and InternalStreamFailure into retryable 502s that keep AWS’s message', async () => {
    const mse = encodeException('ModelStreamError', { Message: 'Your model did not respond in time', ErrorCode: 'ModelInvocationTimeExceeded' });
    await assert.rejects(collect([part(chunk({ content: 'a' })), mse]), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.deepEqual([e.status, e.retryable], [502, true]);
      assert.equal(e.message, 'ModelStreamError (ModelInvocationTimeExceeded): Your model did not respond in time');
      return true;
    });
    const isf = encodeException('InternalStreamFailure', { message: 'The stream processing failed' });
    await assert.rejects(collect([isf]), (e: GatewayError) => e.retryable && /^InternalStreamFailure: The stream processing failed$/.test(e.message));
    const errMsg = encodeMessage({ ':message-type': 'error', ':error-code': 'InternalError', ':error-message': 'boom' }, '');
    await assert.rejects(collect([errMsg]), (e: GatewayError) => e.retryable && e.message === 'InternalError: boom');
  });

  it('reports a cut or corrupt event stream as a retryable 502', async () => {
    const f = part(events);
    await assert.rejects(
      collect([f.subarray(0, f.length - 3)]),
      (e: GatewayError) => e.status === 502 && e.retryable && /ended inside a message/.test(e.message),
    );
    const bad = f.slice();
    bad[bad.length - 8] = bad[bad.length - 8]! ^ 0x01;
    await assert.rejects(collect([bad]), (e: GatewayError) => e.code === 'upstream_bad_response' && /message CRC/.test(e.message));
  });
});

// ----------------------------------------------------------------------------------------------- gateway

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  signatureOk: boolean;
}

/** Checks a request's SigV4 signature the way AWS does: the headers it names, the body, the known secret. */
function verifySigV4(req: http.IncomingMessage, body: Buffer): boolean {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/sagemaker\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m || m[1] !== KEYS.aws_access_key_id) return false;
  const stamp = String(req.headers['x-amz-date'] ?? '');
  const date = Date.parse(stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (Number.isNaN(date) || stamp.slice(0, 8) !== m[2]) return false;
  const headers: Record<string, string> = {};
  for (const name of m[4]!.split(';')) if (!['host', 'x-amz-date', 'x-amz-security-token'].includes(name)) headers[name] = String(req.headers[name] ?? '');
  if (req.headers['x-amz-security-token'] !== KEYS.aws_session_token) return false;
  const want = signV4({
    method: req.method!,
    url: `http://${req.headers.host}${req.url}`,
    headers,
    body: new Uint8Array(body),
    credentials: { accessKeyId: m[1], secretAccessKey: KEYS.aws_secret_access_key, sessionToken: KEYS.aws_session_token },
    region: m[3]!,
    service: 'sagemaker',
    date,
  });
  return want.headers.authorization === auth;
}

describe('sagemaker through the gateway', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let server: http.Server;
  let base = '';
  const seen: Seen[] = [];
  let reply: (res: http.ServerResponse) => void = (res) => res.end();

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const signatureOk = verifySigV4(req, body);
        seen.push({ url: req.url!, headers: req.headers, body: body.toString('utf8'), signatureOk });
        if (!signatureOk) {
          res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' });
          res.end(JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }));
          return;
        }
        reply(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', '@waygate/anthropic-messages', { module: new URL('../src/index.js', import.meta.url).href }],
      },
      port: 0,
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    server?.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const post = (
    body: Record<string, unknown>,
    target: Record<string, unknown> = {},
    headers: Record<string, string> = {},
    path = '/v1/chat/completions',
  ) =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-waygate-config': JSON.stringify({ provider: 'sagemaker', custom_host: base, ...KEYS, amzn_sagemaker_endpoint_name: ENDPOINT, ...target }),
        ...headers,
      },
      body: JSON.stringify(body),
    });

  const stream =
    (frames: Uint8Array[], bytewise = false) =>
    (res: http.ServerResponse) => {
      res.writeHead(200, STREAM_HEADERS);
      const all = bytewise ? [...concat(frames)].map((b) => Uint8Array.of(b)) : frames;
      for (const f of all) res.write(f);
      res.end();
    };

  const dataEvents = (text: string) =>
    text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));

  it('answers JSON from a signed InvokeEndpoint, with the option headers signed too', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jsonFixture('chat-answer')));
    };
    const res = await post(CHAT, { amzn_sagemaker_custom_attributes: 'trace=1' }, { 'x-portkey-amzn-sagemaker-inference-component': 'ic-1' });
    const json = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.equal(json.choices[0].message.content, 'Hello!');
    const last = seen.at(-1)!;
    assert.equal(last.signatureOk, true);
    assert.equal(last.url, `/endpoints/${ENDPOINT}/invocations`);
    assert.equal(last.headers['x-amzn-sagemaker-custom-attributes'], 'trace=1');
    assert.equal(last.headers['x-amzn-sagemaker-inference-component'], 'ic-1');
    assert.match(String(last.headers.authorization), /x-amzn-sagemaker-custom-attributes;x-amzn-sagemaker-inference-component, /);
    assert.deepEqual(JSON.parse(last.body), CHAT);
  });

  it('relays a response stream, PayloadParts cut mid-event and sent one byte at a time, as whole events ending with [DONE]', async () => {
    const sse = chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hel' }) + chunk({ content: 'lo' }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
    const cut = sse.indexOf('"Hel"') + 2;
    reply = stream([part(sse.slice(0, cut)), part(sse.slice(cut))], true);
    const res = await post({ ...CHAT, stream: true });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/event-stream/);
    const evs = dataEvents(await res.text());
    assert.equal(evs.at(-1), '[DONE]');
    assert.equal(evs.length, 5);
    const text = evs
      .slice(0, -1)
      .map((e) => JSON.parse(e).choices[0].delta.content ?? '')
      .join('');
    assert.equal(text, 'Hello');
    assert.equal(seen.at(-1)!.url, `/endpoints/${ENDPOINT}/invocations-response-stream`);
    assert.equal(seen.at(-1)!.signatureOk, true);
  });

  it('fails the attempt with a 502 when ModelStreamError comes before any content', async () => {
    reply = stream([encodeException('ModelStreamError', { Message: 'Connection reset', ErrorCode: 'StreamBroken' })]);
    const res = await post({ ...CHAT, stream: true });
    const json = (await res.json()) as any;
    assert.equal(res.status, 502, JSON.stringify(json));
    assert.match(json.error.message, /ModelStreamError \(StreamBroken\): Connection reset/);
  });

  it('ends with a terminal error event (no [DONE]) when the stream fails after content', async () => {
    reply = stream([part(chunk({ role: 'assistant', content: 'Hi' })), encodeException('InternalStreamFailure', { message: 'stream processing failed' })]);
    const res = await post({ ...CHAT, stream: true });
    assert.equal(res.status, 200);
    const evs = dataEvents(await res.text());
    assert.equal(JSON.parse(evs[0]!).choices[0].delta.content, 'Hi');
    assert.match(JSON.parse(evs.at(-1)!).error.message, /InternalStreamFailure: stream processing failed/);
    assert.ok(!evs.includes('[DONE]'));
  });

  it('ends with a terminal error event when the stream is cut inside a frame, or closes without [DONE]', async () => {
    const f = part(chunk({ content: ' world' }));
    reply = stream([part(chunk({ role: 'assistant', content: 'Hello' })), f.subarray(0, 20)]);
    let evs = dataEvents(await (await post({ ...CHAT, stream: true })).text());
    assert.match(JSON.parse(evs.at(-1)!).error.message, /ended inside a message/);
    assert.ok(!evs.join('').includes(' world'));
    reply = stream([part(chunk({ role: 'assistant', content: 'Hello' }))]);
    evs = dataEvents(await (await post({ ...CHAT, stream: true })).text());
    assert.equal(JSON.parse(evs.at(-1)!).error.code, 'stream_interrupted');
  });

  it('answers 502 when a frame fails its CRC before any content', async () => {
    const bad = part(chunk({ role: 'assistant', content: 'x' })).slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    reply = stream([bad]);
    const res = await post({ ...CHAT, stream: true });
    const json = (await res.json()) as any;
    assert.equal(res.status, 502);
    assert.match(json.error.message, /sagemaker sent a malformed event stream: .*CRC/);
  });

  it('keeps ModelError 424 as the container’s status and throttling as a 429', async () => {
    const answer = (fx: { status: number; headers: Record<string, string>; body: unknown }) => (res: http.ServerResponse) => {
      res.writeHead(fx.status, { 'content-type': 'application/json', ...fx.headers });
      res.end(JSON.stringify(fx.body));
    };
    reply = answer(jsonFixture('error-model-client'));
    let res = await post(CHAT);
    let json = (await res.json()) as any;
    assert.equal(res.status, 400);
    assert.match(json.error.message, /^ModelError: the model container answered 400: /);
    reply = answer(jsonFixture('error-throttled'));
    res = await post(CHAT);
    json = (await res.json()) as any;
    assert.equal(res.status, 429);
    assert.equal(json.error.type, 'rate_limit_error');
  });

  it('never puts the secret key, the session token or the signature in an error', async () => {
    const canonicalEcho = (req: Seen) =>
      'The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n' +
      `'POST\n${req.url}\n\nx-amz-security-token:${String(req.headers['x-amz-security-token'])}\n'\n\n` +
      `The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n${String(req.headers.authorization)}'`;
    reply = (res) => {
      res.writeHead(403, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/',
      });
      res.end(JSON.stringify({ message: canonicalEcho(seen.at(-1)!) }));
    };
    const answers: string[] = [];
    for (const stream of [false, true]) {
      const res = await post({ ...CHAT, stream });
      assert.equal(res.status, 403);
      answers.push(await res.text());
    }
    // missing and unusable credentials, through the gateway too
    answers.push(await (await post(CHAT, { aws_secret_access_key: undefined })).text());
    answers.push(await (await post(CHAT, { aws_region: 'x'.repeat(50) })).text());
    const signature = /Signature=([0-9a-f]{64})/.exec(String(seen.at(-1)!.headers.authorization))![1]!;
    for (const text of answers) {
      for (const secret of [KEYS.aws_secret_access_key, KEYS.aws_session_token, signature, 'Credential=AKIDEXAMPLE'])
        assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
    assert.match(answers[0]!, /InvalidSignatureException: The request signature we calculated does not match/);
    assert.match(answers[2]!, /missing_credentials/);
  });

  it('is checked by a fake that refuses a wrong signature (another secret), and that error carries no secret either', async () => {
    reply = (res) => res.end('{}');
    const wrong = 'wrong-secret-key-0123456789abcdef';
    const res = await post(CHAT, { aws_secret_access_key: wrong });
    const text = await res.text();
    assert.equal(res.status, 403);
    assert.equal(seen.at(-1)!.signatureOk, false);
    assert.match(text, /InvalidSignatureException/);
    assert.ok(!text.includes(wrong) && !text.includes(KEYS.aws_session_token));
  });

  it("serves Anthropic's /v1/messages through the chat bridge, JSON and streamed", async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jsonFixture('chat-answer')));
    };
    const msg = { model: 'lmi', max_tokens: 50, messages: [{ role: 'user', content: 'Say hello' }] };
    let res = await post(msg, {}, { 'anthropic-version': '2023-06-01' }, '/v1/messages');
    const json = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.equal(json.type, 'message');
    assert.deepEqual(json.content, [{ type: 'text', text: 'Hello!' }]);
    assert.deepEqual(JSON.parse(seen.at(-1)!.body).messages, [{ role: 'user', content: 'Say hello' }]);
    const sse = chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hel' }) + chunk({ content: 'lo' }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
    reply = stream([part(sse.slice(0, 50)), part(sse.slice(50))]);
    res = await post({ ...msg, stream: true }, {}, { 'anthropic-version': '2023-06-01' }, '/v1/messages');
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(text, /event: message_stop/);
    const deltas = [...text.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]).join('');
    assert.equal(deltas, 'Hello');
    assert.equal(seen.at(-1)!.url, `/endpoints/${ENDPOINT}/invocations-response-stream`);
  });

  it('answers 400 unsupported_endpoint for what it does not serve (completions from an OpenAI-style container), sending nothing', async () => {
    const before = seen.length;
    const res = await post({ model: 'lmi', prompt: 'hi' }, {}, {}, '/v1/completions');
    const json = (await res.json()) as any;
    assert.deepEqual([res.status, json.error.code], [400, 'unsupported_endpoint']);
    assert.equal(seen.length, before);
  });

  it('serves embeddings through the same signed InvokeEndpoint', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jsonFixture('embed-answer')));
    };
    const res = await post({ model: 'bge-small', input: 'Hello there' }, { amzn_sagemaker_endpoint_name: 'bge-endpoint' }, {}, '/v1/embeddings');
    const json = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.equal(json.data[0].embedding.length, 4);
    assert.equal(seen.at(-1)!.url, '/endpoints/bge-endpoint/invocations');
    assert.equal(seen.at(-1)!.signatureOk, true);
  });

  // ------------------------------------------------------------------ a TGI container (sagemaker_format: "tgi")

  const TGI = { sagemaker_format: 'tgi' };
  const tgiEvent = (o: Record<string, unknown>) => `data:${JSON.stringify(o)}\n\n`;
  const token = (index: number, text: string, special = false) =>
    tgiEvent({ index, token: { id: index, text, logprob: -0.1, special }, generated_text: null, details: null });
  const last = (index: number, generated: string, details: Record<string, unknown>) =>
    tgiEvent({ index, token: { id: 2, text: '</s>', logprob: -0.01, special: true }, generated_text: generated, details });
  const json = (body: unknown) => (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  it("keeps an OpenAI-style container's JSON answer byte for byte (the default format maps nothing)", async () => {
    const raw =
      '{"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"lmi",  "choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"x_vendor":{"a":1}}';
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(raw);
    };
    const res = await post(CHAT, { sagemaker_format: 'openai' });
    assert.equal(await res.text(), raw);
  });

  it("sends TGI's {inputs, parameters} to a TGI container, signed, and answers its [{generated_text}] as a chat completion", async () => {
    reply = json(jsonFixture('tgi-answer'));
    const res = await post({ model: 'tgi-llm', messages: [{ role: 'user', content: 'Say hello' }], max_completion_tokens: 20, temperature: 0 }, TGI);
    const body = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'tgi-llm');
    assert.deepEqual(body.choices[0].message, { role: 'assistant', content: 'Hello! How can I help?' });
    assert.deepEqual(body.usage, { prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 });
    const sent = seen.at(-1)!;
    assert.equal(sent.signatureOk, true);
    assert.equal(sent.url, `/endpoints/${ENDPOINT}/invocations`);
    assert.deepEqual(JSON.parse(sent.body), { inputs: 'Say hello', parameters: { max_new_tokens: 20, do_sample: false, details: true } });
  });

  it('takes the format from the x-portkey- / x-waygate- header too, and refuses an unknown one before sending', async () => {
    reply = json(jsonFixture('tgi-answer'));
    let res = await post(CHAT, {}, { 'x-portkey-sagemaker-format': 'tgi' });
    assert.equal(((await res.json()) as any).choices[0].message.content, 'Hello! How can I help?');
    assert.deepEqual(JSON.parse(seen.at(-1)!.body).inputs, 'hi');
    const before = seen.length;
    res = await post(CHAT, { sagemaker_format: 'djl' });
    const err = (await res.json()) as any;
    assert.deepEqual([res.status, err.error.code, err.error.param], [400, 'invalid_config', 'sagemaker_format']);
    assert.equal(seen.length, before);
  });

  it('answers a TGI container without generated_text with a retryable 502', async () => {
    reply = json({ outputs: ['?'] });
    const res = await post(CHAT, TGI);
    const err = (await res.json()) as any;
    assert.equal(res.status, 502);
    assert.match(err.error.message, /sagemaker answered without a generated_text/);
  });

  it("translates a TGI container's generate_stream events, PayloadParts cut anywhere and sent one byte at a time, to OpenAI chunks", async () => {
    const sse = token(1, 'Hel') + token(2, 'lo') + last(3, 'Hello', { finish_reason: 'length', generated_tokens: 2, input_length: 4 });
    const cut = sse.indexOf('"lo"') + 2;
    reply = stream([part(sse.slice(0, cut)), part(sse.slice(cut))], true);
    const res = await post({ ...CHAT, stream: true, stream_options: { include_usage: true } }, TGI);
    assert.equal(res.status, 200);
    const evs = dataEvents(await res.text());
    assert.equal(evs.at(-1), '[DONE]');
    const chunks = evs.slice(0, -1).map((e) => JSON.parse(e));
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello');
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    const sent = seen.at(-1)!;
    assert.equal(sent.url, `/endpoints/${ENDPOINT}/invocations-response-stream`);
    assert.equal(sent.signatureOk, true);
    assert.deepEqual(JSON.parse(sent.body), { inputs: 'hi', parameters: { details: true }, stream: true });
  });

  it('fails the attempt on a TGI error event before content (its status kept), and ends with a terminal error after it', async () => {
    reply = stream([part(tgiEvent({ error: 'Input validation error: `temperature` must be strictly positive', error_type: 'validation' }))]);
    let res = await post({ ...CHAT, stream: true }, TGI);
    const err = (await res.json()) as any;
    assert.equal(res.status, 422, JSON.stringify(err));
    assert.match(err.error.message, /sagemaker stream error \(validation\): Input validation error/);
    reply = stream([part(token(1, 'Hi') + tgiEvent({ error: 'Model is overloaded', error_type: 'overloaded' }))]);
    res = await post({ ...CHAT, stream: true }, TGI);
    assert.equal(res.status, 200);
    const evs = dataEvents(await res.text());
    assert.equal(JSON.parse(evs[1]!).choices[0].delta.content, 'Hi');
    assert.match(JSON.parse(evs.at(-1)!).error.message, /Model is overloaded/);
    assert.ok(!evs.includes('[DONE]'));
  });

  it('ends a TGI stream that closes before its last event with a stream_interrupted error event', async () => {
    reply = stream([part(token(1, 'Hel') + token(2, 'lo'))]);
    const evs = dataEvents(await (await post({ ...CHAT, stream: true }, TGI)).text());
    assert.equal(JSON.parse(evs.at(-1)!).error.code, 'stream_interrupted');
    assert.ok(!evs.includes('[DONE]'));
  });

  it('serves completions for a TGI container, JSON and streamed (the prompt as inputs), and refuses them otherwise', async () => {
    reply = json([{ generated_text: ' world', details: { finish_reason: 'stop_sequence', generated_tokens: 2, seed: null } }]);
    let res = await post({ model: 'tgi-llm', prompt: 'Hello', stop: '\n' }, TGI, {}, '/v1/completions');
    const body = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual([body.object, body.choices[0].text, body.choices[0].finish_reason], ['text_completion', ' world', 'stop']);
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { inputs: 'Hello', parameters: { stop: ['\n'], details: true } });
    reply = stream([part(token(1, ' wor') + token(2, 'ld') + last(3, ' world', { finish_reason: 'eos_token', generated_tokens: 2, input_length: 1 }))]);
    res = await post({ model: 'tgi-llm', prompt: 'Hello', stream: true }, TGI, {}, '/v1/completions');
    const evs = dataEvents(await res.text());
    assert.equal(evs.at(-1), '[DONE]');
    const chunks = evs.slice(0, -1).map((e) => JSON.parse(e));
    assert.ok(chunks.every((c) => c.object === 'text_completion'));
    assert.equal(chunks.map((c) => c.choices[0].text).join(''), ' world');
    assert.equal(seen.at(-1)!.url, `/endpoints/${ENDPOINT}/invocations-response-stream`);
    const before = seen.length;
    res = await post({ model: 'lmi', prompt: 'Hello' }, {}, {}, '/v1/completions');
    const err = (await res.json()) as any;
    assert.deepEqual([res.status, err.error.code], [400, 'unsupported_endpoint']);
    assert.match(err.error.message, /sagemaker_format/);
    assert.equal(seen.length, before);
  });

  it("refuses what TGI's /generate cannot take (tools, images) with a 400, sending nothing", async () => {
    const before = seen.length;
    const res = await post({ ...CHAT, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] }, TGI);
    const err = (await res.json()) as any;
    assert.deepEqual([res.status, err.error.param], [400, 'tools']);
    assert.equal(seen.length, before);
  });
});
