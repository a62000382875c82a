// OpenTelemetry traces from the real CLI (`node core/dist/bin/waygate.js`): the SDK is wired by the
// command from the standard OTEL_* environment alone (no tracing options in the config), exports to
// a loopback OTLP receiver that decodes what it gets, and flushes when the gateway stops (SIGTERM),
// also in each worker of `--workers 2`; protobuf by default, OTEL_EXPORTER_OTLP_PROTOCOL=http/json honoured.
import http from 'node:http';
import { expect } from 'chai';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received, Reply } from './fakes/provider-upstreams.js';
import { OtlpReceiver, attrs } from './helpers/otlp.js';
import { killAllClis, spawnCli } from './helpers/proc-cli.js';
import { tempDir, writeConfig } from './helpers/proc-util.js';

const KEY = 'sk-trace-cli-0123456789';
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

function handler(req: Received): Reply {
  if ((req.body as { stream?: boolean }).stream) {
    return { stream: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hi' }), chunk({}, 'length'), 'data: [DONE]\n\n'] };
  }
  return {
    json: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    },
  };
}

/** A chat request on a connection of its own (so that under --workers the connections are spread over the workers). */
function post(url: string, body: object, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'x-waygate-provider': 'openai', ...headers },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (text += s));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.end(data);
  });
}

describe('OpenTelemetry traces from the waygate CLI, set up from OTEL_* alone', function () {
  this.timeout(60_000);
  let up: FakeUpstream;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let file: string;

  before(async () => {
    up = await FakeUpstream.start(handler);
    dir = await tempDir('waygate-tracing-cli-');
    file = await writeConfig(dir.dir, { providers: { openai: { api_key: KEY, base_url: `${up.url}/v1` } } }, 'tracing.json');
  });
  after(async () => {
    await killAllClis();
    await up?.close();
    await dir?.cleanup();
  });

  async function run(otlp: OtlpReceiver, env: Record<string, string>, args: string[] = [], requests = 2, config = file) {
    const cli = spawnCli(['--config', config, '--port', '0', ...args], { env });
    const banner = await cli.ready();
    // Under --workers, every worker prints its banner once it listens.
    const workers = Number(args[args.indexOf('--workers') + 1] ?? 1) || 1;
    await cli.waitFor(`${workers} workers listening`, () => ((cli.stderr.match(/ listening on /g) ?? []).length >= workers ? true : undefined));
    for (let i = 0; i < requests; i++) {
      const traceId = (i + 1).toString(16).padStart(32, '0');
      const r = await post(
        banner.url,
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
        { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      );
      expect(r.status, r.text).to.equal(200);
    }
    const streamed = await post(banner.url, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(streamed.text).to.include('[DONE]');
    // The batch's delay (5 s by default) has not passed: only the flush at the stop can have sent the spans.
    const before = otlp.spans.length;
    cli.kill('SIGTERM');
    const exit = await cli.waitExit(20_000);
    expect(exit.code, cli.describe()).to.equal(0);
    return { cli, before };
  }

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone turns traces on; the spans (OTLP/HTTP protobuf, the default) go out when the gateway stops', async () => {
    const otlp = await OtlpReceiver.start();
    try {
      const { cli, before } = await run(otlp, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp.url });
      expect(cli.stderr).to.include('OpenTelemetry traces: otlp (http/protobuf)');
      expect(before).to.equal(0);
      expect(otlp.contentTypes[0]).to.match(/application\/x-protobuf/);
      expect(otlp.services).to.include('waygate');
      const servers = otlp.spans.filter((s) => s.kind === 2);
      expect(servers).to.have.length(3);
      const first = servers.find((s) => s.traceId === '1'.padStart(32, '0'))!;
      expect(first.parentSpanId).to.equal('00f067aa0ba902b7');
      expect(attrs(first)).to.deep.include({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 3 });
      const sent = up.requests.find((r) => String(r.headers.traceparent).includes('1'.padStart(32, '0')))!;
      expect(sent.headers.traceparent).to.equal(`00-${'1'.padStart(32, '0')}-${first.spanId}-01`);
      const stream = servers.find((s) => attrs(s)['waygate.stream'] === true)!;
      expect(attrs(stream)['gen_ai.response.finish_reasons']).to.deep.equal(['length']);
      expect(otlp.spans.filter((s) => s.kind === 3 && s.parentSpanId === first.spanId)).to.have.length(1);
    } finally {
      await otlp.close();
    }
  });

  it('the tracing plugin’s SDK options in the config file (endpoint, sampleRatio) are read by the CLI: parent-based sampling', async () => {
    const otlp = await OtlpReceiver.start();
    try {
      const config = {
        providers: { openai: { api_key: KEY, base_url: `${up.url}/v1` } },
        plugins: [{ module: '@waygate/tracing', options: { endpoint: otlp.url, serviceName: 'from-config', sampleRatio: 0 } }],
      };
      const own = await writeConfig(dir.dir, config, 'tracing-options.json');
      const sentBefore = up.requests.length;
      const { cli } = await run(otlp, {}, [], 2, own);
      expect(cli.stderr).to.include('OpenTelemetry traces: otlp (http/protobuf)');
      expect(otlp.services.every((s) => s === 'from-config')).to.equal(true);
      // The two requests under a sampled caller trace are kept; the stream, a new trace, is not (ratio 0).
      const servers = otlp.spans.filter((s) => s.kind === 2);
      expect(servers.map((s) => s.traceId).sort()).to.deep.equal(['1'.padStart(32, '0'), '2'.padStart(32, '0')]);
      const streamed = up.requests.slice(sentBefore).find((r) => (r.body as { stream?: boolean }).stream)!;
      expect(streamed.headers.traceparent).to.equal(undefined);
    } finally {
      await otlp.close();
    }
  });

  it('a collector that refuses is reported on stderr and does not hold the exit; an unsupported protocol is said, not dropped', async () => {
    const otlp = await OtlpReceiver.start();
    await otlp.close(); // its port is now closed: the exports are refused
    const started = Date.now();
    const { cli } = await run(otlp, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' });
    expect(Date.now() - started).to.be.below(15_000);
    expect(cli.stderr).to.include('waygate: OTLP protocol grpc is not supported (http/protobuf, http/json); using http/protobuf');
    expect(cli.stderr).to.match(/waygate: (opentelemetry (error|warn):|the OpenTelemetry SDK did not (flush|shut down))/);
  });

  it('without OTEL_* nothing is exported, and no SDK line is printed', async () => {
    const otlp = await OtlpReceiver.start();
    try {
      const { cli } = await run(otlp, {});
      expect(cli.stderr).to.not.include('OpenTelemetry traces');
      expect(otlp.spans).to.have.length(0);
    } finally {
      await otlp.close();
    }
  });

  it('--workers 2: each worker has its SDK and flushes it when drained; OTEL_SERVICE_NAME and http/json honoured', async () => {
    const otlp = await OtlpReceiver.start();
    try {
      const base = otlp.url.replace(/\/v1\/traces$/, '');
      const { cli } = await run(
        otlp,
        { OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'waygate-workers' },
        ['--workers', '2'],
        6,
      );
      expect(cli.stderr).to.include('OpenTelemetry traces: otlp (http/json)');
      expect(otlp.contentTypes.every((t) => t.includes('application/json'))).to.equal(true);
      expect(otlp.services.every((s) => s === 'waygate-workers')).to.equal(true);
      const servers = otlp.spans.filter((s) => s.kind === 2);
      expect(servers).to.have.length(7);
      // Both workers served and both flushed: their resources name two processes.
      expect(new Set(otlp.resources.map((r) => r['process.pid'])).size).to.equal(2);
      for (let i = 1; i <= 6; i++) {
        const s = servers.find((x) => x.traceId === i.toString(16).padStart(32, '0'));
        expect(s, `trace ${i}`).to.not.equal(undefined);
        expect(attrs(s!)).to.deep.include({ 'gen_ai.request.model': 'gpt-4o', 'http.response.status_code': 200 });
      }
    } finally {
      await otlp.close();
    }
  });
});
