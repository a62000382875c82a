// OpenTelemetry traces end to end: the gateway with @waygate/tracing exporting over OTLP/HTTP to a
// loopback receiver that decodes what it gets (OTLP's JSON encoding); a server span per request with
// the caller's traceparent as parent, a client span per upstream attempt, GenAI attributes, the
// traceparent sent upstream, a stream's span ended with the stream, content redacted when opted in.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received, Reply } from './fakes/provider-upstreams.js';
import { LogCapture } from './helpers/api-support.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
const value = (v: OtlpValue): unknown =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? v.arrayValue?.values.map(value)));
const attrs = (s: OtlpSpan) => Object.fromEntries(s.attributes.map((a) => [a.key, value(a.value)]));

/** An OTLP/HTTP traces receiver on loopback: every span it was sent, and the service names. */
class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly services: unknown[] = [];
  readonly contentTypes: string[] = [];
  private constructor(
    readonly server: http.Server,
    readonly url: string,
  ) {}
  static async start(): Promise<OtlpReceiver> {
    let self!: OtlpReceiver;
    const server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        self.contentTypes.push(String(req.headers['content-type']));
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as {
          resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const rs of body.resourceSpans) {
          self.services.push(value(rs.resource.attributes.find((a) => a.key === 'service.name')!.value));
          for (const ss of rs.scopeSpans) self.spans.push(...ss.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`);
    return self;
  }
  close = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
}

const KEY = 'sk-trace-held-0123456789';
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

function openaiHandler(req: Received): Reply {
  const body = req.body as { stream?: boolean; model?: string };
  if (body.model === 'gpt-broken') return { status: 500, json: { error: { message: 'boom', type: 'server_error' } } };
  if (body.stream) {
    return {
      stream: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hello' }),
        chunk({}, 'stop'),
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } })}\n\n`,
        'data: [DONE]\n\n',
      ],
    };
  }
  return {
    json: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Write to bob@example.com' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    },
  };
}

describe('OpenTelemetry traces (@waygate/tracing) to a loopback OTLP receiver', () => {
  let up: FakeUpstream;
  let otlp: OtlpReceiver;
  let gw: Gateway;

  before(async () => {
    [up, otlp] = await Promise.all([FakeUpstream.start(openaiHandler), OtlpReceiver.start()]);
    gw = await startGateway({
      config: {
        providers: { openai: { api_key: KEY, base_url: `${up.url}/v1` } },
        plugins: [{ module: '@waygate/tracing', options: { endpoint: otlp.url, serviceName: 'gateway-under-test', captureContent: true } }],
      },
      port: 0,
      host: '127.0.0.1',
      logger: new LogCapture('warn').logger,
    });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    // 1: JSON, under a caller's trace; 2: a stream; 3: a fallback whose first target fails.
    await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'Mail alice@example.com please' }], max_tokens: 50, temperature: 0.2 },
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
    await gw.close(0); // flushes the batch
  });
  after(async () => {
    await Promise.all([up?.close(), otlp?.close()]);
  });

  const servers = () => otlp.spans.filter((s) => s.kind === 2);
  const clients = (server: OtlpSpan) => otlp.spans.filter((s) => s.kind === 3 && s.parentSpanId === server.spanId && s.traceId === server.traceId);

  it('exports OTLP/HTTP JSON with the service name, a server span per request', () => {
    expect(otlp.contentTypes[0]).to.match(/application\/json/);
    expect(otlp.services).to.include('gateway-under-test');
    expect(servers()).to.have.length(3);
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
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
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

  it('prompt and completion texts are recorded only redacted (opted in)', () => {
    const s = servers().find((x) => x.traceId === '0af7651916cd43dd8448eb211c80319c')!;
    const a = attrs(s);
    expect(a['gen_ai.input.messages']).to.be.a('string').and.include('Mail').and.not.include('alice@example.com');
    expect(a['gen_ai.output.messages']).to.be.a('string').and.include('[REDACTED_').and.not.include('bob@example.com');
  });

  it('a stream’s span ends with the stream and has its usage', () => {
    const s = servers().find((x) => attrs(x)['waygate.stream'] === true)!;
    expect(attrs(s)).to.deep.include({ 'gen_ai.usage.input_tokens': 9, 'gen_ai.usage.output_tokens': 2 });
    expect(clients(s)).to.have.length(1);
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
