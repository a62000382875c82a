/**
 * The provider conformance kit: one suite every provider adapter runs with fixtures recorded in its
 * provider's documented wire format, so the same behaviours are checked the same way for every
 * provider, bundled or third-party. It starts a real gateway with only the provider under test (and
 * a probe plugin of this kit), replays the recorded upstream answers from a loopback server, and
 * drives the gateway over HTTP as an OpenAI client would.
 *
 * Use it from a mocha test file:
 *
 *   runProviderConformance('anthropic', {
 *     module: new URL('../src/index.js', import.meta.url).href,
 *     provider: 'anthropic',
 *     chat: { request, answer: { status: 200, body: recordedJson }, expect: { content: 'Hi', finish_reason: 'stop' } },
 *     stream: { request, answer: { body: recordedSseTranscript }, expect: { content: 'Hi', finish_reason: 'stop' } },
 *     errors: [{ answer: { status: 529, body: overloaded }, expect: { status: 529, retryable: true, message: /Overloaded/ } }],
 *   });
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../gateway.js';
import type { Gateway } from '../gateway.js';
import { createLogger } from '../logger.js';
import { SSEParser } from '../sse.js';
import { retryableSeen } from './probe-plugin.js';
import { defineMessagesCases } from './conformance-messages.js';

/** A recorded upstream answer. */
export interface RecordedAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** The body: an object is sent as JSON; a string or bytes as they are. */
  body: unknown;
}

/** A recorded upstream stream: the bytes (SSE text, or binary frames) and the headers that came with them. */
export interface RecordedStream {
  status?: number;
  headers?: Record<string, string>;
  /** The transcript; an array is written chunk by chunk, as it was recorded. */
  body: string | Uint8Array | Array<string | Uint8Array>;
}

/** What the canonical (OpenAI-format) answer must say. */
export interface ExpectedAnswer {
  content?: string | null;
  finish_reason: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens?: number; cached_tokens?: number };
  tool_calls?: Array<{ name: string; arguments: unknown }>;
}

export interface UpstreamExpectations {
  method?: string;
  /** The upstream path (and query) must match. */
  path?: string | RegExp;
  /** Headers the upstream must have received (values exact, or patterns). */
  headers?: Record<string, string | RegExp>;
  /** Further checks of the upstream request's parsed JSON body. */
  body?: (json: any) => void;
}

export interface Scenario<A = RecordedAnswer> {
  request: Record<string, unknown>;
  answer: A;
  expect: ExpectedAnswer;
  upstream?: UpstreamExpectations;
}

export interface ConformanceFixture {
  /** The provider plugin's module: a file URL, an absolute path, or a package name. */
  module: string;
  /** The provider slug it registers. */
  provider: string;
  /** Plugin options, if any. */
  options?: unknown;
  /** Extra keys for the routing config's leaf (provider options); `api_key` defaults to a test key. */
  target?: Record<string, unknown>;
  /** Appended to the replay server's URL to make the custom host (e.g. `/v1`). Default: none. */
  basePath?: string;
  /** A plain chat completion. */
  chat: Scenario;
  /** The same (or another) request streamed: the recorded transcript and what it must add up to. */
  stream?: Scenario<RecordedStream>;
  /** A completion whose answer calls tools. */
  toolCalls?: Scenario;
  /** A streamed tool call (arguments arriving in pieces). */
  streamToolCalls?: Scenario<RecordedStream>;
  embeddings?: {
    request: Record<string, unknown>;
    answer: RecordedAnswer;
    expect: { count: number; dimensions: number };
    upstream?: UpstreamExpectations;
  };
  /** `false` leaves out the `/v1/messages` cases (the chat and stream scenarios through @anthropic-ai/sdk). */
  messages?: false;
  /** Recorded error answers: the status kept, the provider's message kept, overload and rate limits retryable. */
  errors: Array<{ answer: RecordedAnswer; expect: { status: number; retryable: boolean; message: string | RegExp } }>;
}

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const KEY = 'conformance-test-key-0123456789';
const PROBE = fileURLToPath(new URL('./probe-plugin.js', import.meta.url));

/** Defines a mocha suite that checks a provider adapter against its recorded fixtures. */
export function runProviderConformance(name: string, fx: ConformanceFixture): void {
  describe(`provider conformance: ${name}`, function () {
    this.timeout(20_000);
    let gw: Gateway;
    let server: http.Server;
    let base = '';
    let reply: (res: http.ServerResponse) => void = (res) => res.end();
    let split: 'as-recorded' | 'bytewise' = 'as-recorded';
    const seen: Recorded[] = [];

    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          reply(res);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${fx.basePath ?? ''}`;
      gw = await startGateway({
        config: {
          defaultPlugins: false,
          plugins: [
            '@waygate/openai-api',
            ...(fx.messages === false ? [] : ['@waygate/anthropic-messages']),
            { module: fx.module, options: fx.options },
            PROBE,
          ],
        },
        port: 0,
        logger: createLogger({ level: 'silent' }),
      });
    });
    after(async () => {
      await gw?.close(0);
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });
    beforeEach(() => {
      seen.length = 0;
      split = 'as-recorded';
    });

    const serve = (a: RecordedAnswer) => {
      reply = (res) => {
        const body = typeof a.body === 'string' || a.body instanceof Uint8Array ? a.body : JSON.stringify(a.body);
        res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
        res.end(body);
      };
    };
    const serveStream = (s: RecordedStream) => {
      reply = (res) => {
        res.writeHead(s.status ?? 200, { 'content-type': 'text/event-stream', ...s.headers });
        const parts = Array.isArray(s.body) ? s.body : [s.body];
        const bytes = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)));
        const pieces = split === 'bytewise' ? bytes.flatMap((b) => [...b].map((x) => Buffer.from([x]))) : bytes;
        let i = 0;
        const next = () => {
          if (res.destroyed) return;
          if (i >= pieces.length) return void res.end();
          res.write(pieces[i++], () => setImmediate(next));
        };
        next();
      };
    };
    const config = () => JSON.stringify({ provider: fx.provider, api_key: KEY, custom_host: base, ...fx.target });
    const post = (route: string, body: Record<string, unknown>) =>
      fetch(`${gw.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-config': config() },
        body: JSON.stringify(body),
      });
    const checkUpstream = (u: UpstreamExpectations | undefined) => {
      assert.equal(seen.length, 1, 'exactly one upstream request');
      const r = seen[0]!;
      assert.ok(!r.url.includes(KEY) || fx.target?.key_in_query === true, 'the key is not in the URL');
      if (!u) return;
      if (u.method) assert.equal(r.method, u.method);
      if (u.path !== undefined) {
        if (typeof u.path === 'string') assert.equal(r.url, u.path);
        else assert.match(r.url, u.path);
      }
      for (const [h, v] of Object.entries(u.headers ?? {})) {
        const got = r.headers[h.toLowerCase()];
        assert.equal(typeof got, 'string', `upstream header ${h}`);
        if (typeof v === 'string') assert.equal(got, v, `upstream header ${h}`);
        else assert.match(got as string, v, `upstream header ${h}`);
      }
      u.body?.(JSON.parse(r.body));
    };

    it("answers a chat completion in OpenAI's shape, from the provider's recorded answer", async () => {
      serve(fx.chat.answer);
      const res = await post('/v1/chat/completions', fx.chat.request);
      const json = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(json));
      checkAnswer(json, fx.chat.expect);
    });

    it('sends the upstream request the provider documents', async () => {
      serve(fx.chat.answer);
      await (await post('/v1/chat/completions', fx.chat.request)).arrayBuffer();
      checkUpstream(fx.chat.upstream);
    });

    if (fx.toolCalls) {
      const s = fx.toolCalls;
      it('maps tool calls both ways', async () => {
        serve(s.answer);
        const res = await post('/v1/chat/completions', s.request);
        const json = (await res.json()) as any;
        assert.equal(res.status, 200, JSON.stringify(json));
        checkAnswer(json, s.expect);
        checkUpstream(s.upstream);
      });
    }

    for (const [label, s] of [
      ['stream', fx.stream],
      ['streamed tool call', fx.streamToolCalls],
    ] as const) {
      if (!s) continue;
      for (const mode of ['as-recorded', 'bytewise'] as const) {
        it(`relays a ${label} as OpenAI chunks (${mode === 'bytewise' ? 'delivered one byte at a time' : 'as recorded'})`, async () => {
          split = mode;
          serveStream(s.answer);
          const res = await post('/v1/chat/completions', { ...s.request, stream: true, stream_options: { include_usage: true } });
          assert.equal(res.status, 200, await res.clone().text());
          assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
          checkStream(await res.text(), s.expect);
          if (mode === 'as-recorded') checkUpstream(s.upstream);
        });
      }
    }

    if (fx.embeddings) {
      const e = fx.embeddings;
      it("answers embeddings in OpenAI's shape", async () => {
        serve(e.answer);
        const res = await post('/v1/embeddings', e.request);
        const json = (await res.json()) as any;
        assert.equal(res.status, 200, JSON.stringify(json));
        assert.equal(json.object, 'list');
        assert.equal(json.data.length, e.expect.count);
        json.data.forEach((d: any, i: number) => {
          assert.equal(d.object, 'embedding');
          assert.equal(d.index, i);
          assert.equal(d.embedding.length, e.expect.dimensions);
        });
        checkUpstream(e.upstream);
      });
    }

    if (fx.messages !== false) defineMessagesCases({ url: () => gw.url, config, key: KEY, serve, serveStream }, fx.chat, fx.stream);

    fx.errors.forEach((e, i) => {
      it(`keeps the status and message of recorded error ${i + 1} (${e.answer.status ?? 200}), retryable: ${e.expect.retryable}`, async () => {
        serve(e.answer);
        const res = await post('/v1/chat/completions', fx.chat.request);
        const json = (await res.json()) as any;
        assert.equal(res.status, e.expect.status);
        assert.equal(typeof json?.error?.message, 'string', 'an OpenAI-shaped error body');
        if (typeof e.expect.message === 'string') assert.ok(json.error.message.includes(e.expect.message), json.error.message);
        else assert.match(json.error.message, e.expect.message);
        assert.equal(retryableSeen(res.headers.get('x-waygate-request-id')!), e.expect.retryable, 'retryable');
        assert.ok(!JSON.stringify(json).includes(KEY), 'the key is not echoed');
      });
    });
  });
}

function checkAnswer(json: any, e: ExpectedAnswer): void {
  assert.equal(json.object, 'chat.completion');
  assert.equal(typeof json.id, 'string');
  assert.equal(typeof json.model, 'string');
  const choice = json.choices?.[0];
  assert.ok(choice, 'choices[0]');
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  if (e.content !== undefined) assert.equal(choice.message.content, e.content);
  assert.equal(choice.finish_reason, e.finish_reason);
  if (e.tool_calls) {
    const calls = choice.message.tool_calls ?? [];
    assert.equal(calls.length, e.tool_calls.length, 'tool call count');
    e.tool_calls.forEach((want, i) => {
      assert.equal(calls[i].type, 'function');
      assert.equal(typeof calls[i].id, 'string');
      assert.equal(calls[i].function.name, want.name);
      assert.deepEqual(JSON.parse(calls[i].function.arguments), want.arguments);
    });
  }
  if (e.usage) checkUsage(json.usage, e.usage);
}

function checkUsage(got: any, want: NonNullable<ExpectedAnswer['usage']>): void {
  assert.ok(got, 'usage');
  assert.equal(got.prompt_tokens, want.prompt_tokens, 'prompt_tokens');
  assert.equal(got.completion_tokens, want.completion_tokens, 'completion_tokens');
  assert.equal(got.total_tokens, want.total_tokens ?? want.prompt_tokens + want.completion_tokens, 'total_tokens');
  if (want.cached_tokens !== undefined) assert.equal(got.prompt_tokens_details?.cached_tokens, want.cached_tokens, 'cached_tokens');
}

/** Parses the gateway's SSE answer and checks it adds up to the expected answer. */
function checkStream(text: string, e: ExpectedAnswer): void {
  const events = new SSEParser().push(text, true);
  assert.ok(events.length >= 2, `some events: ${text}`);
  assert.equal(events[events.length - 1]!.data, '[DONE]', 'ends with [DONE]');
  let content = '';
  let role: string | undefined;
  let finish: string | undefined;
  let usage: any;
  const calls: Array<{ name: string; args: string }> = [];
  for (const ev of events.slice(0, -1)) {
    const chunk = JSON.parse(ev.data);
    assert.ok(!chunk.error, `no error event: ${ev.data}`);
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices ?? []) {
      role ??= c.delta?.role;
      if (typeof c.delta?.content === 'string') content += c.delta.content;
      for (const t of c.delta?.tool_calls ?? []) {
        const slot = (calls[t.index] ??= { name: '', args: '' });
        if (t.function?.name) slot.name += t.function.name;
        if (t.function?.arguments) slot.args += t.function.arguments;
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(role, 'assistant', 'the first delta names the role');
  if (e.content !== undefined) assert.equal(content, e.content ?? '', 'streamed content');
  assert.equal(finish, e.finish_reason, 'finish_reason');
  if (e.tool_calls) {
    assert.equal(calls.length, e.tool_calls.length, 'streamed tool call count');
    e.tool_calls.forEach((want, i) => {
      assert.equal(calls[i]!.name, want.name);
      assert.deepEqual(JSON.parse(calls[i]!.args), want.arguments);
    });
  }
  if (e.usage) checkUsage(usage, e.usage);
}
