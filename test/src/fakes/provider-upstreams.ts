// Fake upstreams for the providers that do not speak OpenAI's format: one small loopback HTTP server
// (FakeUpstream) driven by a handler, and one handler per provider that answers in that provider's
// documented wire format: Azure OpenAI (OpenAI's format at Azure's paths, with its filter chunk),
// Cohere v2 (JSON and typed SSE events), Gemini (JSON and `alt=sse`), Bedrock (Converse JSON,
// ConverseStream in AWS event-stream binary frames, Titan embeddings; SigV4 signatures verified),
// Vertex AI (Gemini as on the Gemini API, Claude in Anthropic's Messages format, `predict` embeddings;
// OAuth bearer tokens).
// Every handler plays the same Script, so one test can hold all providers to the same answers.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

type Json = Record<string, any>;

/** A request as the fake received it. */
export interface Received {
  method: string;
  /** Path and query as sent. */
  url: string;
  pathname: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  /** The JSON body (undefined if there was none or it was not JSON). */
  body: Json | undefined;
}

/** What the fake sends back: a JSON answer, or a body written piece by piece (SSE text or binary frames). */
export type Reply =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  | { status?: number; headers?: Record<string, string>; stream: Array<string | Uint8Array>; chunkBytes?: number };

export type Handler = (req: Received) => Reply;

/** A real HTTP server on 127.0.0.1 that records every request and answers through a handler (or a queued reply). */
export class FakeUpstream {
  readonly requests: Received[] = [];
  readonly #queue: Reply[] = [];

  private constructor(
    readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(handler: Handler): Promise<FakeUpstream> {
    let fake!: FakeUpstream;
    const server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        const u = new URL(req.url ?? '/', 'http://fake');
        let body: Json | undefined;
        try {
          body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          body = undefined;
        }
        const rec: Received = {
          method: req.method ?? '',
          url: req.url ?? '/',
          pathname: u.pathname,
          query: u.searchParams,
          headers: req.headers,
          raw,
          body,
        };
        fake.requests.push(rec);
        void send(res, fake.#queue.shift() ?? handler(rec));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeUpstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  /** The next request gets this reply instead of the handler's. */
  enqueue(reply: Reply): void {
    this.#queue.push(reply);
  }

  reset(): void {
    this.requests.length = 0;
    this.#queue.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function send(res: http.ServerResponse, reply: Reply): Promise<void> {
  const status = reply.status ?? 200;
  if ('json' in reply) {
    res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.json));
    return;
  }
  res.writeHead(status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
  let pieces: Array<string | Uint8Array> = reply.stream;
  if (reply.chunkBytes) {
    // Re-cut the whole body at a fixed size, so frames and characters straddle writes.
    const all = Buffer.concat(reply.stream.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    pieces = [];
    for (let i = 0; i < all.length; i += reply.chunkBytes) pieces.push(all.subarray(i, i + reply.chunkBytes));
  }
  for (const p of pieces) {
    if (res.destroyed) return;
    res.write(p);
    await tick();
  }
  res.end();
}

// ------------------------------------------------------------------ the script every provider plays

/** One conversation's answers, told the same way by every provider's fake. */
export interface Script {
  /** The answer text, in the pieces a stream sends (joined: the whole answer). */
  pieces: string[];
  /** The tool call: its arguments JSON in the pieces a stream sends. */
  tool: { id: string; name: string; args: string[] };
  /** The text answered after a tool result. */
  afterTool: string;
}

/** A deterministic embedding of a text, exact in float32 (multiples of 1/256), so base64 round trips compare exactly. */
export function vectorFor(text: string): number[] {
  return [text.length, text.charCodeAt(0), text.charCodeAt(text.length - 1), -text.split(' ').length].map((x) => x / 256);
}

/** One vector as OpenAI's `encoding_format: "base64"` sends it: float32 little-endian bytes. */
export function base64Vector(v: number[]): string {
  const buf = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}

const text = (s: Script) => s.pieces.join('');
const argsOf = (s: Script) => JSON.parse(s.tool.args.join('')) as Json;
const lastMessage = (messages: unknown): Json | undefined => (Array.isArray(messages) ? messages.at(-1) : undefined);

/** An SSE event; `event:` line first when named. */
export function sse(data: unknown, event?: string, eol = '\n'): string {
  return `${event ? `event: ${event}${eol}` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`;
}

// ------------------------------------------------------------------ Azure OpenAI

const AZURE_FILTER = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

/**
 * Azure OpenAI: `/openai/deployments/{deployment}/{chat/completions|embeddings}?api-version=…` with an
 * `api-key` header; OpenAI's bodies with the model's own name, content filter results, and a first
 * stream chunk that holds only the prompt's filter results.
 */
export function azureHandler(script: Script, usage: Json, opts: { key: string; embedTokens: number }): Handler {
  return (req) => {
    const m = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(req.pathname);
    if (!m || !req.query.get('api-version')) return { status: 404, json: { error: { code: '404', message: 'Resource not found' } } };
    if (req.headers['api-key'] !== opts.key) {
      return {
        status: 401,
        json: {
          error: {
            code: '401',
            message:
              'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
          },
        },
      };
    }
    const body = req.body ?? {};
    const model = 'gpt-4o-2024-11-20';
    if (m[2] === 'embeddings') {
      const inputs: string[] = typeof body.input === 'string' ? [body.input] : body.input;
      return {
        json: {
          object: 'list',
          model: 'text-embedding-3-small',
          data: inputs.map((t, index) => ({
            object: 'embedding',
            index,
            embedding: body.encoding_format === 'base64' ? base64Vector(vectorFor(t)) : vectorFor(t),
          })),
          usage: { prompt_tokens: opts.embedTokens, total_tokens: opts.embedTokens },
        },
      };
    }
    const id = 'chatcmpl-AZ9x2fakeazure';
    const created = 1732000000;
    const afterTool = lastMessage(body.messages)?.role === 'tool';
    const toolTurn = Array.isArray(body.tools) && !afterTool;
    const call = { id: script.tool.id, type: 'function', function: { name: script.tool.name, arguments: script.tool.args.join('') } };
    if (!body.stream) {
      const message: Json = toolTurn
        ? { role: 'assistant', content: null, refusal: null, tool_calls: [call] }
        : { role: 'assistant', content: afterTool ? script.afterTool : text(script), refusal: null };
      return {
        json: {
          id,
          object: 'chat.completion',
          created,
          model,
          system_fingerprint: 'fp_b705f0c291',
          prompt_filter_results: [{ prompt_index: 0, content_filter_results: AZURE_FILTER }],
          choices: [
            { index: 0, message, logprobs: null, finish_reason: toolTurn ? 'tool_calls' : 'stop', content_filter_results: toolTurn ? {} : AZURE_FILTER },
          ],
          usage,
        },
      };
    }
    const chunk = (delta: Json, finish: string | null = null) =>
      sse({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        system_fingerprint: 'fp_b705f0c291',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, content_filter_results: finish ? {} : AZURE_FILTER }],
      });
    const frames = [
      sse({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: AZURE_FILTER }] }),
    ];
    if (toolTurn) {
      frames.push(
        chunk({
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ index: 0, ...call, function: { name: call.function.name, arguments: '' } }],
        }),
      );
      for (const a of script.tool.args) frames.push(chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] }));
      frames.push(chunk({}, 'tool_calls'));
    } else {
      frames.push(chunk({ role: 'assistant', content: '', refusal: null }));
      for (const p of script.pieces) frames.push(chunk({ content: p }));
      frames.push(chunk({}, 'stop'));
    }
    if (body.stream_options?.include_usage) frames.push(sse({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }));
    frames.push(sse('[DONE]'));
    return { stream: frames };
  };
}

// ------------------------------------------------------------------ Cohere v2

/** Cohere v2: `POST /v2/chat` (JSON, or typed SSE events when `stream`), `POST /v2/embed`; `Authorization: Bearer`; errors as `{id, message}`. */
export function cohereHandler(script: Script, usage: Json, opts: { key: string; embedTokens: number }): Handler {
  return (req) => {
    if (req.headers.authorization !== `Bearer ${opts.key}`) return { status: 401, json: { id: 'e1b7c4d2', message: 'invalid api token' } };
    const body = req.body ?? {};
    if (req.pathname === '/v2/embed') {
      if (!Array.isArray(body.texts) || !body.input_type)
        return { status: 400, json: { id: 'e2', message: 'invalid request: texts and input_type are required' } };
      return {
        json: {
          id: 'da6e531f-83c4-4a6f-9c29-1a1d1a2e1f3b',
          embeddings: { float: body.texts.map((t: string) => vectorFor(t)) },
          texts: body.texts,
          meta: { api_version: { version: '2' }, billed_units: { input_tokens: opts.embedTokens } },
          response_type: 'embeddings_by_type',
        },
      };
    }
    if (req.pathname !== '/v2/chat') return { status: 404, json: { message: `path ${req.pathname} not found` } };
    const id = 'c14c80c3-18eb-4519-9460-6c92edd8cfb4';
    const afterTool = lastMessage(body.messages)?.role === 'tool';
    const toolTurn = Array.isArray(body.tools) && !afterTool;
    const call = { id: script.tool.id, type: 'function', function: { name: script.tool.name, arguments: script.tool.args.join('') } };
    const finish = toolTurn ? 'TOOL_CALL' : 'COMPLETE';
    if (!body.stream) {
      const message = toolTurn
        ? { role: 'assistant', tool_plan: 'I will look up the weather.', tool_calls: [call] }
        : { role: 'assistant', content: [{ type: 'text', text: afterTool ? script.afterTool : text(script) }] };
      return { json: { id, finish_reason: finish, message, usage } };
    }
    const ev = (data: Json) => sse(data, data.type);
    const frames = [
      ev({ id, type: 'message-start', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } }),
    ];
    if (toolTurn) {
      frames.push(ev({ type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will look up the weather.' } } }));
      frames.push(
        ev({ type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { ...call, function: { name: call.function.name, arguments: '' } } } } }),
      );
      for (const a of script.tool.args)
        frames.push(ev({ type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: a } } } } }));
      frames.push(ev({ type: 'tool-call-end', index: 0 }));
    } else {
      frames.push(ev({ type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } }));
      for (const p of script.pieces) frames.push(ev({ type: 'content-delta', index: 0, delta: { message: { content: { text: p } } } }));
      frames.push(ev({ type: 'content-end', index: 0 }));
    }
    frames.push(ev({ type: 'message-end', delta: { finish_reason: finish, usage } }));
    return { stream: frames };
  };
}

// ------------------------------------------------------------------ Google Gemini

/** Google's error body (google.rpc.Status as JSON), used by the Gemini API and by Vertex AI. */
export function googleError(code: number, status: string, message: string): Reply {
  return { status: code, json: { error: { code, message, status } } };
}

/**
 * A Gemini chat answer, the same on the Gemini API and on Vertex AI: a GenerateContentResponse for
 * `generateContent`, or for `streamGenerateContent?alt=sse` one per SSE event (CRLF line ends, usage
 * on every event, the last one final). A function call is answered whole, in one event.
 */
export function geminiAnswer(
  script: Script,
  usage: Json,
  req: Received,
  method: 'generateContent' | 'streamGenerateContent',
  modelVersion: string,
): Reply {
  const body = req.body ?? {};
  const responseId = 'gR4gaKmHL8CKz7IPz9Gc2AM';
  const last = lastMessage(body.contents);
  const afterTool = Array.isArray(last?.parts) && last.parts.some((p: Json) => p.functionResponse);
  const toolTurn = Array.isArray(body.tools) && !afterTool;
  const candidate = (parts: Json[], finishReason?: string) => ({ content: { parts, role: 'model' }, ...(finishReason ? { finishReason } : {}), index: 0 });
  const functionCall = { functionCall: { name: script.tool.name, args: argsOf(script) } };
  if (method === 'generateContent') {
    const parts = toolTurn ? [functionCall] : [{ text: afterTool ? script.afterTool : text(script) }];
    return { json: { candidates: [candidate(parts, 'STOP')], usageMetadata: usage, modelVersion, responseId } };
  }
  if (req.query.get('alt') !== 'sse') return googleError(400, 'INVALID_ARGUMENT', 'this fake streams with alt=sse only');
  const event = (c: Json, u: Json) => sse({ candidates: [c], usageMetadata: u, modelVersion, responseId }, undefined, '\r\n');
  const partial = { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount };
  if (toolTurn) return { stream: [event(candidate([functionCall], 'STOP'), usage)] };
  return {
    stream: script.pieces.map((p, i) =>
      i === script.pieces.length - 1 ? event(candidate([{ text: p }], 'STOP'), usage) : event(candidate([{ text: p }]), partial),
    ),
  };
}

/**
 * Gemini API: `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
 * `:batchEmbedContents`; `x-goog-api-key`; errors as `{error: {code, message, status}}`.
 */
export function geminiHandler(script: Script, usage: Json, opts: { key: string }): Handler {
  return (req) => {
    const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(req.pathname);
    if (!m) return googleError(404, 'NOT_FOUND', `Method not found: ${req.pathname}`);
    if (req.headers['x-goog-api-key'] !== opts.key) return googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
    if (m[2] === 'batchEmbedContents') {
      return { json: { embeddings: ((req.body ?? {}).requests as Json[]).map((r) => ({ values: vectorFor(r.content.parts[0].text) })) } };
    }
    return geminiAnswer(script, usage, req, m[2] as 'generateContent' | 'streamGenerateContent', m[1]!);
  };
}

// ------------------------------------------------------------------ Anthropic Messages

/**
 * An Anthropic Messages answer: a `message` object, or (`stream`) the named SSE events
 * (`message_start` with the input usage, `ping`, one content block with its deltas, `message_delta`
 * with the stop reason and output tokens, `message_stop`). A tool call is a `tool_use` block whose
 * input JSON streams as `input_json_delta` pieces (the first one empty, as Anthropic sends it).
 */
export function anthropicAnswer(script: Script, usage: Json, req: Received, stream: boolean, model: string): Reply {
  const body = req.body ?? {};
  const last = lastMessage(body.messages);
  const afterTool = Array.isArray(last?.content) && last.content.some((b: Json) => b.type === 'tool_result');
  const toolTurn = Array.isArray(body.tools) && !afterTool;
  const stop_reason = toolTurn ? 'tool_use' : 'end_turn';
  const id = 'msg_vrtx_01HqJ7wzT5bXk9fC2mEo4sRt';
  if (!stream) {
    const content = toolTurn
      ? [{ type: 'tool_use', id: script.tool.id, name: script.tool.name, input: argsOf(script) }]
      : [{ type: 'text', text: afterTool ? script.afterTool : text(script) }];
    return { json: { id, type: 'message', role: 'assistant', model, content, stop_reason, stop_sequence: null, usage } };
  }
  const ev = (type: string, data: Json) => sse({ type, ...data }, type);
  const frames = [
    ev('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }),
    ev('ping', {}),
  ];
  if (toolTurn) {
    frames.push(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: script.tool.id, name: script.tool.name, input: {} } }));
    for (const a of ['', ...script.tool.args]) frames.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: a } }));
  } else {
    frames.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    for (const p of script.pieces) frames.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } }));
  }
  frames.push(ev('content_block_stop', { index: 0 }));
  frames.push(ev('message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }));
  frames.push(ev('message_stop', {}));
  return { stream: frames };
}

// ------------------------------------------------------------------ Google Vertex AI

/** The `anthropic_version` Claude on Vertex AI requires in the body. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/**
 * Vertex AI: `POST /v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{method}`
 * with an OAuth access token (`Authorization: Bearer`). Google's models answer `generateContent` and
 * `streamGenerateContent?alt=sse` as the Gemini API does, and `predict` for text embeddings;
 * Anthropic's answer `rawPredict` and `streamRawPredict` in Anthropic's Messages format, for a body
 * without `model` and with `anthropic_version: "vertex-2023-10-16"`. Vertex's own errors (auth,
 * quota, unknown method) are google.rpc bodies; Claude's are Anthropic's.
 */
export function vertexHandler(script: Script, usage: { gemini: Json; claude: Json }, opts: { token: string }): Handler {
  type Method = (req: Received, model: string) => Reply;
  const methods: Record<string, Method> = {
    'google:generateContent': (req, model) => geminiAnswer(script, usage.gemini, req, 'generateContent', model),
    'google:streamGenerateContent': (req, model) => geminiAnswer(script, usage.gemini, req, 'streamGenerateContent', model),
    'google:predict': (req) => {
      const instances = (req.body?.instances ?? []) as Json[];
      return {
        json: {
          predictions: instances.map((i) => ({
            embeddings: { statistics: { truncated: false, token_count: vertexEmbedTokens(i.content) }, values: vectorFor(i.content) },
          })),
          metadata: { billableCharacterCount: instances.reduce((n, i) => n + String(i.content).length, 0) },
        },
      };
    },
    'anthropic:rawPredict': (req, model) => claude(req, model, false),
    'anthropic:streamRawPredict': (req, model) => claude(req, model, true),
  };
  function claude(req: Received, model: string, stream: boolean): Reply {
    const version = req.body?.anthropic_version;
    if (version !== VERTEX_ANTHROPIC_VERSION) {
      const message = version === undefined ? 'anthropic_version: Field required' : `anthropic_version: Input should be '${VERTEX_ANTHROPIC_VERSION}'`;
      return { status: 400, json: { type: 'error', error: { type: 'invalid_request_error', message } } };
    }
    return anthropicAnswer(script, usage.claude, req, stream, model.replace('@', '-'));
  }
  return (req) => {
    const m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/([^/]+)\/models\/([^/:]+):(\w+)$/.exec(req.pathname);
    if (!m) return googleError(404, 'NOT_FOUND', `The requested URL ${req.pathname} was not found on this server.`);
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      return googleError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      );
    }
    const method = methods[`${m[3]}:${m[5]}`];
    if (!method) return googleError(400, 'INVALID_ARGUMENT', `Method ${m[5]} is not available for publisher ${m[3]}.`);
    return method(req, decodeURIComponent(m[4]!));
  };
}

/** The token count the fake reports for one embedded text: its words. */
export function vertexEmbedTokens(text: unknown): number {
  return String(text).split(' ').length;
}

// ------------------------------------------------------------------ Amazon Bedrock

/** An AWS event-stream message: prelude (total and header lengths, CRC), string headers, payload, message CRC. */
export function eventStreamMessage(headers: Record<string, string>, payload: string): Buffer {
  const hs = Buffer.concat(
    Object.entries(headers).map(([k, v]) => {
      const name = Buffer.from(k, 'utf8');
      const value = Buffer.from(v, 'utf8');
      const h = Buffer.alloc(1 + name.length + 3);
      h.writeUInt8(name.length, 0);
      name.copy(h, 1);
      h.writeUInt8(7, 1 + name.length); // type 7: string
      h.writeUInt16BE(value.length, 2 + name.length);
      return Buffer.concat([h, value]);
    }),
  );
  const body = Buffer.from(payload, 'utf8');
  const total = 12 + hs.length + body.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(hs.length, 4);
  out.writeUInt32BE(zlib.crc32(out.subarray(0, 8)), 8);
  hs.copy(out, 12);
  body.copy(out, 12 + hs.length);
  out.writeUInt32BE(zlib.crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

/** A ConverseStream event frame, with the `p` padding field Bedrock adds to payloads. */
export function bedrockEvent(type: string, payload: Json): Buffer {
  return eventStreamMessage(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyz'.slice(0, type.length) }),
  );
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface AwsCreds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Checks a request's SigV4 signature the way AWS does (non-S3 rules: path segments encoded twice,
 * sorted query, the signed headers as received, SHA-256 of the body). Undefined when it is valid,
 * else the AWS error to answer with.
 */
export function verifySigV4(req: Received, creds: AwsCreds, service: string): { type: string; status: number; message: string } | undefined {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return { type: 'MissingAuthenticationTokenException', status: 403, message: 'Missing Authentication Token' };
  const [, keyId, day, region, svc, signed, signature] = m as unknown as string[];
  if (keyId !== creds.accessKeyId || (creds.sessionToken && req.headers['x-amz-security-token'] !== creds.sessionToken)) {
    return { type: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.' };
  }
  const names = signed!.split(';');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (svc !== service || !names.includes('host') || !names.includes('x-amz-date') || !amzDate.startsWith(day!)) {
    return { type: 'InvalidSignatureException', status: 403, message: `Credential should be scoped to correct service: '${service}'.` };
  }
  const [path, query = ''] = req.url.split('?');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((kv) => kv.split('=').map((x) => rfc3986(decodeURIComponent(x))))
    .map(([k, v = '']) => `${k}=${v}`)
    .sort()
    .join('&');
  const canonical = [
    req.method,
    path!.split('/').map(rfc3986).join('/'),
    canonicalQuery,
    names
      .map(
        (n) =>
          `${n}:${String(req.headers[n] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join(''),
    signed,
    sha256(req.raw),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day!), region!), service), 'aws4_request');
  if (createHmac('sha256', key).update(toSign, 'utf8').digest('hex') !== signature) {
    return {
      type: 'InvalidSignatureException',
      status: 403,
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return undefined;
}

/** Bedrock's error answer: the type in `x-amzn-errortype`, the message in the body. */
export function bedrockError(status: number, type: string, message: string): Reply {
  return {
    status,
    headers: {
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': 'a3c1e6f0-7d2b-4b8e-9f1a-0c2d3e4f5a6b',
    },
    json: { message },
  };
}

/**
 * Amazon Bedrock Runtime: `POST /model/{modelId}/converse` (JSON), `/converse-stream` (AWS event-stream
 * frames, re-cut at odd sizes so frames straddle writes), `/invoke` for Titan text embeddings; every
 * request must carry a valid SigV4 signature for the given credentials.
 */
export function bedrockHandler(script: Script, usage: Json, opts: { creds: AwsCreds; embedTokens: number }): Handler {
  return (req) => {
    const bad = verifySigV4(req, opts.creds, 'bedrock');
    if (bad) return bedrockError(bad.status, bad.type, bad.message);
    const m = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(req.pathname);
    if (!m) return bedrockError(404, 'UnknownOperationException', 'Unknown operation');
    const body = req.body ?? {};
    if (m[2] === 'invoke') {
      if (typeof body.inputText !== 'string')
        return bedrockError(400, 'ValidationException', 'Malformed input request: required key [inputText] not found');
      const v = vectorFor(body.inputText);
      return { json: { embedding: v, embeddingsByType: { float: v }, inputTextTokenCount: opts.embedTokens } };
    }
    const last = lastMessage(body.messages);
    const afterTool = Array.isArray(last?.content) && last.content.some((b: Json) => b.toolResult);
    const toolTurn = !!body.toolConfig && !afterTool;
    const stopReason = toolTurn ? 'tool_use' : 'end_turn';
    if (m[2] === 'converse') {
      const content = toolTurn
        ? [{ toolUse: { toolUseId: script.tool.id, name: script.tool.name, input: argsOf(script) } }]
        : [{ text: afterTool ? script.afterTool : text(script) }];
      return {
        headers: { 'x-amzn-requestid': '6c9a1d2e-1111-4b0c-9d5c-1a2b3c4d5e6f' },
        json: { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 412 } },
      };
    }
    const frames = [bedrockEvent('messageStart', { role: 'assistant' })];
    if (toolTurn) {
      frames.push(bedrockEvent('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: script.tool.id, name: script.tool.name } } }));
      for (const a of script.tool.args) frames.push(bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: a } } }));
    } else {
      for (const p of script.pieces) frames.push(bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: p } }));
    }
    frames.push(bedrockEvent('contentBlockStop', { contentBlockIndex: 0 }));
    frames.push(bedrockEvent('messageStop', { stopReason }));
    frames.push(bedrockEvent('metadata', { usage, metrics: { latencyMs: 380 } }));
    return {
      headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': '6c9a1d2e-2222-4b0c-9d5c-1a2b3c4d5e6f' },
      stream: frames,
      chunkBytes: 37,
    };
  };
}
