// End-to-end life cycle: the real CLI as a child process (embedded default config, flags and
// environment, config files, refusals, graceful shutdown, JSON logs) and, in process, the client
// going away aborting the upstream call.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CORE_VERSION, createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeOpenAI } from './fakes/index.js';
import { CLI, killAllClis, spawnCli } from './helpers/proc-cli.js';
import type { CliProcess } from './helpers/proc-cli.js';
import {
  CHAT,
  canBind,
  fixture,
  freePort,
  getJson,
  postJson,
  refusedWithin,
  relativeSpec,
  sseContent,
  sseData,
  tempDir,
  tryConnect,
  writeConfig,
} from './helpers/proc-util.js';

const KEY = 'sk-lifecycle-secret-7f3a9c';

function chatHeaders(fake: FakeOpenAI): Record<string, string> {
  return { 'x-waygate-provider': 'openai', 'x-waygate-custom-host': fake.baseURL, authorization: `Bearer ${KEY}` };
}

/** Starts the CLI and waits for its banner. */
async function startCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ cli: CliProcess; url: string; port: number; host: string; plugins: string[] }> {
  const cli = spawnCli(args, { env });
  const banner = await cli.ready();
  return { cli, ...banner };
}

/** Streams a chat request with node:http, handing each received chunk to `onData`. */
function streamRequest(
  url: string,
  headers: Record<string, string>,
  onData: (text: string, req: http.ClientRequest) => void,
): { req: http.ClientRequest; done: Promise<{ status: number; text: string; error?: Error }> } {
  const body = JSON.stringify({ ...CHAT, stream: true });
  const req = http.request(`${url}/v1/chat/completions`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
  });
  const done = new Promise<{ status: number; text: string; error?: Error }>((resolve) => {
    let text = '';
    let status = 0;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      resolve({ status, text, error });
    };
    req.once('error', (err) => finish(err));
    req.once('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        text += s;
        onData(text, req);
      });
      res.once('end', () => finish());
      res.once('aborted', () => finish(new Error('aborted')));
      res.once('error', (err) => finish(err));
      res.once('close', () => finish(res.complete ? undefined : new Error('closed before the end')));
    });
  });
  req.end(body);
  return { req, done };
}

/** Number of chat content chunks (not the role chunk, not [DONE]) in an SSE text so far. */
function contentChunks(text: string): number {
  return sseData(text).filter((d) => d !== '[DONE]' && /"content":"[^"]/.test(d)).length;
}

describe('life cycle (end to end)', function () {
  this.timeout(30_000);
  let fake: FakeOpenAI;

  before(async () => {
    fake = await FakeOpenAI.start({ name: 'lifecycle-upstream', apiKey: KEY });
  });
  after(async () => {
    await killAllClis();
    await fake.close();
  });
  beforeEach(() => fake.reset());
  afterEach(killAllClis);

  describe('the CLI with no config file (the embedded default)', () => {
    it('serves /health listing the bundled providers, and routes a chat request with provider, custom host and bearer', async () => {
      const { cli, url, plugins } = await startCli(['--port', '0']);
      expect(cli.stderr).to.include(`Waygate ${CORE_VERSION} listening on ${url} (config: embedded default)`);
      expect(plugins).to.include('@waygate/provider-openai@1.0.0');
      expect(plugins).to.include('@waygate/provider-openai-compatible@1.0.0');

      const health = await getJson(`${url}/health`);
      expect(health.status).to.equal(200);
      expect(health.body.status).to.equal('ok');
      expect(health.body.version).to.equal(CORE_VERSION);
      const names = (health.body.plugins as Array<{ name: string }>).map((p) => p.name);
      expect(names).to.include.members(['@waygate/provider-openai', '@waygate/provider-openai-compatible']);

      const res = await postJson(`${url}/v1/chat/completions`, CHAT, chatHeaders(fake));
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.object).to.equal('chat.completion');
      expect(res.body.choices[0].message.content).to.equal('Hello from lifecycle-upstream');
      expect(fake.requests).to.have.length(1);
      expect(fake.requests[0]!.headers.authorization).to.equal(`Bearer ${KEY}`);
      expect(fake.requests[0]!.path).to.equal('/v1/chat/completions');

      // Without a bearer the fake (which checks keys) refuses, and the gateway relays its 401.
      const noKey = await postJson(`${url}/v1/chat/completions`, CHAT, {
        'x-waygate-provider': 'openai',
        'x-waygate-custom-host': fake.baseURL,
      });
      expect(noKey.status).to.equal(401);
    });

    it('prints its version and its usage', async () => {
      const version = spawnCli(['--version']);
      expect(await version.waitExit()).to.deep.equal({ code: 0, signal: null });
      expect(version.stdout.trim()).to.equal(CORE_VERSION);
      const help = spawnCli(['--help']);
      expect((await help.waitExit()).code).to.equal(0);
      expect(help.stdout).to.include('Usage: waygate');
    });

    it('runs with the Node flags of its shebang, the ones `npm start` gives it too', () => {
      // A young generation of 32 MB (twice Node's default) takes a fifth off the gateway's CPU per
      // request (BENCHMARKS.md); the bench reads the same line, so it measures what an install runs.
      const shebang = readFileSync(CLI, 'utf8').split('\n', 1)[0]!;
      const flags = /^#!\/usr\/bin\/env -S node (--max-semi-space-size=\d+)$/.exec(shebang)?.[1];
      expect(flags, shebang).to.be.a('string');
      const root = path.resolve(path.dirname(CLI), '..', '..', '..');
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
      expect(pkg.scripts.start).to.match(new RegExp(`&& node ${flags} core/dist/bin/waygate\\.js$`));
      // the line as the kernel runs it: Node accepts the flags and the CLI starts under them
      const out = execFileSync('/usr/bin/env', ['-S', `node ${flags}`, CLI, '--version'], { encoding: 'utf8' });
      expect(out.trim()).to.equal(CORE_VERSION);
    });
  });

  describe('flags, environment and config files', () => {
    let tmp: { dir: string; cleanup: () => Promise<void> };
    let otherHost: string;

    before(async () => {
      tmp = await tempDir('waygate-cli-');
      // 127.0.0.2 is loopback on Linux; elsewhere fall back to the wildcard address.
      otherHost = (await canBind('127.0.0.2')) ? '127.0.0.2' : '0.0.0.0';
    });
    after(async () => {
      await tmp.cleanup();
    });

    it('listens on PORT and HOST from the environment', async () => {
      const port = await freePort(otherHost);
      const { url, host, port: bound } = await startCli([], { PORT: String(port), HOST: otherHost });
      expect(bound).to.equal(port);
      expect(host).to.equal(otherHost);
      expect(url).to.equal(`http://${otherHost}:${port}`);
      const probe = otherHost === '0.0.0.0' ? '127.0.0.1' : otherHost;
      expect((await getJson(`http://${probe}:${port}/health`)).status).to.equal(200);
    });

    it('lets --port and --host beat PORT and HOST', async () => {
      const envPort = await freePort();
      const flagPort = await freePort();
      const { url, port, host } = await startCli(['--port', String(flagPort), '--host', '127.0.0.1'], {
        PORT: String(envPort),
        HOST: otherHost,
      });
      expect(port).to.equal(flagPort);
      expect(host).to.equal('127.0.0.1');
      expect((await getJson(`${url}/health`)).status).to.equal(200);
      expect(await tryConnect(envPort, '127.0.0.1')).to.equal('ECONNREFUSED');
    });

    it('loads --config FILE (its server.port and host, its version, its plugins relative to it); flags beat the file', async () => {
      const filePort = await freePort();
      const file = await writeConfig(
        tmp.dir,
        {
          version: 'cli-config-42',
          server: { port: filePort, host: '127.0.0.1' },
          plugins: [
            {
              module: relativeSpec(tmp.dir, fixture('third-party-plugin', 'index.js')),
              options: { header: 'x-acme-policy', value: 'from-cli-config' },
            },
          ],
        },
        'cli.json',
      );
      const a = await startCli(['--config', file]);
      expect(a.port).to.equal(filePort);
      expect(a.cli.stderr).to.include(`(config: ${file})`);
      expect(a.plugins).to.include('acme-waygate-policy@2.3.4');
      const health = await getJson(`${a.url}/health`);
      expect(health.body.config_version).to.equal('cli-config-42');
      expect(health.body.plugins).to.deep.include({ name: 'acme-waygate-policy', version: '2.3.4', kind: 'guardrail' });
      const res = await postJson(`${a.url}/v1/chat/completions`, { ...CHAT, model: 'blocked-model' }, chatHeaders(fake));
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-acme-policy')).to.equal('from-cli-config');
      expect(res.body.choices[0].message.content).to.equal('This model is blocked by policy.');
      expect(fake.requests).to.have.length(0);
      a.cli.kill('SIGTERM');
      expect((await a.cli.waitExit()).code).to.equal(0);

      // WAYGATE_CONFIG names the file too; --port beats the file's server.port.
      const b = await startCli(['--port', '0'], { WAYGATE_CONFIG: file });
      expect(b.port).to.not.equal(filePort);
      expect(b.plugins).to.include('acme-waygate-policy@2.3.4');
      expect((await getJson(`${b.url}/health`)).body.config_version).to.equal('cli-config-42');

      // PORT beats the file's server.port too.
      const envPort = await freePort();
      const c = await startCli(['--config', file], { PORT: String(envPort) });
      expect(c.port).to.equal(envPort);
    });

    it('exits 2 with a message for a bad --port, an out-of-range PORT and an unknown flag', async () => {
      const bad = spawnCli(['--port', 'abc']);
      expect(await bad.waitExit()).to.deep.equal({ code: 2, signal: null });
      expect(bad.stderr).to.include('--port must be a whole number');
      expect(bad.stderr).to.include('"abc"');

      const range = spawnCli([], { env: { PORT: '70000' } });
      expect((await range.waitExit()).code).to.equal(2);
      expect(range.stderr).to.include('"70000"');

      const unknown = spawnCli(['--prot', '8080']);
      expect((await unknown.waitExit()).code).to.equal(2);
      expect(unknown.stderr).to.include('--prot');
      expect(unknown.stderr).to.include('Usage: waygate');
    });

    it('exits 1 when a config plugin needs another core version, naming the plugin and both versions', async () => {
      const file = await writeConfig(
        tmp.dir,
        {
          plugins: [relativeSpec(tmp.dir, fixture('refusals', 'future-core.js'))],
        },
        'future.json',
      );
      const cli = spawnCli(['--config', file, '--port', '0']);
      expect(await cli.waitExit()).to.deep.equal({ code: 1, signal: null });
      expect(cli.stderr).to.include('waygate: failed to start: Cannot load plugin acme-future-plugin');
      expect(cli.stderr).to.include('^2.0.0');
      expect(cli.stderr).to.include(CORE_VERSION);
      expect(cli.stderr).to.not.include('listening on');
    });

    it('exits 1 when its port is taken, saying so', async () => {
      const blocker = http.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      try {
        const port = (blocker.address() as { port: number }).port;
        const cli = spawnCli(['--port', String(port)]);
        expect(await cli.waitExit()).to.deep.equal({ code: 1, signal: null });
        expect(cli.stderr).to.include('waygate: failed to start:');
        expect(cli.stderr).to.include('EADDRINUSE');
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it('exits 1 for an unknown WAYGATE_LOG_LEVEL', async () => {
      const cli = spawnCli(['--port', '0'], { env: { WAYGATE_LOG_LEVEL: 'chatty' } });
      expect(await cli.waitExit()).to.deep.equal({ code: 1, signal: null });
      expect(cli.stderr).to.include('waygate: failed to start:');
      expect(cli.stderr).to.include('chatty');
    });

    it('names WAYGATE_LOG_LEVEL and the valid levels when the variable is not a level', async () => {
      const cli = spawnCli(['--port', '0'], { env: { WAYGATE_LOG_LEVEL: 'chatty' } });
      expect((await cli.waitExit()).code).to.equal(1);
      expect(cli.stderr).to.include('WAYGATE_LOG_LEVEL');
      expect(cli.stderr).to.include('warn');
    });

    it('exits 1 for an invalid config file, naming the path of the bad field', async () => {
      const file = await writeConfig(tmp.dir, { server: { port: 'x' } }, 'bad.json');
      const cli = spawnCli(['--config', file]);
      expect((await cli.waitExit()).code).to.equal(1);
      expect(cli.stderr).to.include('waygate: failed to start:');
      expect(cli.stderr).to.include('server.port');
    });
  });

  describe('graceful shutdown', () => {
    it('on SIGTERM finishes the in-flight stream, refuses new connections, and exits 0', async () => {
      const { cli, url, port } = await startCli(['--port', '0']);
      fake.enqueue({ kind: 'delay', ms: 1500 });
      const inflight = fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...chatHeaders(fake) },
        body: JSON.stringify({ ...CHAT, stream: true }),
      });
      await fake.waitForRequests(1); // the request is inside the gateway, waiting on the upstream
      cli.kill('SIGTERM');
      await cli.waitForStderr(/SIGTERM: draining in-flight requests/);

      expect(await refusedWithin(port, '127.0.0.1', 1000)).to.equal('ECONNREFUSED');
      expect(cli.exitInfo, 'the CLI exited before its in-flight request finished').to.equal(undefined);

      const res = await inflight;
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const text = await res.text();
      const data = sseData(text);
      expect(data[data.length - 1]).to.equal('[DONE]');
      expect(sseContent(text)).to.equal('Hello from lifecycle-upstream');
      expect(text).to.not.include('"error"');

      expect(await cli.waitExit(10_000)).to.deep.equal({ code: 0, signal: null });
    });

    it('with server.shutdownTimeoutMs 300, exits 0 soon after SIGTERM even though a stream is stalled', async () => {
      const tmp = await tempDir('waygate-shutdown-');
      try {
        const file = await writeConfig(tmp.dir, { server: { shutdownTimeoutMs: 300 } });
        const { cli, url } = await startCli(['--config', file, '--port', '0']);
        fake.enqueue({ kind: 'stream-stall', afterChunks: 2 });
        let sawChunks!: () => void;
        const twoChunks = new Promise<void>((resolve) => (sawChunks = resolve));
        const stream = streamRequest(url, chatHeaders(fake), (text) => {
          if (contentChunks(text) >= 2) sawChunks();
        });
        await twoChunks;
        cli.kill('SIGTERM');
        // The default deadline is 10 s: exiting within 5 s shows the configured 300 ms was used.
        expect(await cli.waitExit(5_000)).to.deep.equal({ code: 0, signal: null });
        expect(cli.stderr).to.include('up to 300 ms');
        const result = await stream.done;
        expect(result.status).to.equal(200);
        expect(sseData(result.text)).to.not.include('[DONE]');
        // The cut is visible to the client: the response did not end cleanly.
        expect(result.error, 'the client saw a clean end of a stream that was cut').to.be.instanceOf(Error);
        await fake.waitForIdle(3000); // the upstream connection went away with the gateway
        expect(fake.requests[0]!.aborted).to.equal(true);
      } finally {
        await tmp.cleanup();
      }
    });

    it('exits at once, with code 1, on a second SIGTERM while draining', async () => {
      const { cli, url } = await startCli(['--port', '0']); // default deadline: 10 s
      fake.enqueue({ kind: 'stream-stall', afterChunks: 1 });
      let sawChunk!: () => void;
      const oneChunk = new Promise<void>((resolve) => (sawChunk = resolve));
      const stream = streamRequest(url, chatHeaders(fake), (text) => {
        if (contentChunks(text) >= 1) sawChunk();
      });
      await oneChunk;
      cli.kill('SIGTERM');
      await cli.waitForStderr(/SIGTERM: draining in-flight requests \(up to 10000 ms\)/);
      cli.kill('SIGTERM');
      expect(await cli.waitExit(5_000)).to.deep.equal({ code: 1, signal: null });
      expect(cli.stderr).to.include('SIGTERM again, exiting now');
      expect((await stream.done).error).to.be.instanceOf(Error);
      await fake.waitForIdle(3000);
    });
  });

  describe('the client going away (in process)', () => {
    let gw: Gateway;
    let lines: Array<Record<string, any>>;

    beforeEach(async () => {
      lines = [];
      const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
      gw = await startGateway({ config: {}, port: 0, host: '127.0.0.1', logger });
    });
    afterEach(async () => {
      await gw.close(0);
    });

    function requestLines(): Array<Record<string, any>> {
      return lines.filter((l) => l.msg === 'request');
    }

    async function waitForLogLine(): Promise<Record<string, any>> {
      for (let i = 0; i < 200 && requestLines().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(requestLines(), 'no request log line').to.have.length(1);
      return requestLines()[0]!;
    }

    it('aborts the upstream stream when the client leaves mid-stream', async () => {
      fake.enqueue({ kind: 'stream-stall', afterChunks: 2 });
      let received = '';
      const stream = streamRequest(gw.url, chatHeaders(fake), (text, req) => {
        received = text;
        if (contentChunks(text) >= 2) req.destroy();
      });
      const result = await stream.done;
      expect(result.status).to.equal(200);
      expect(contentChunks(received)).to.equal(2);
      await fake.waitForIdle(2000);
      expect(fake.requests).to.have.length(1);
      expect(fake.requests[0]!.aborted).to.equal(true);
      const line = await waitForLogLine();
      expect(line.status).to.equal(499);
      expect(line.provider).to.equal('openai');
    });

    it('aborts a non-streaming upstream call that is still waiting when the client leaves', async () => {
      fake.enqueue({ kind: 'delay', ms: 3000 });
      const ctrl = new AbortController();
      const pending = fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...chatHeaders(fake) },
        body: JSON.stringify(CHAT),
        signal: ctrl.signal,
      });
      const outcome = pending.then(
        () => 'answered',
        (err: Error) => err.name,
      );
      await fake.waitForRequests(1);
      await new Promise((r) => setTimeout(r, 100));
      ctrl.abort();
      expect(await outcome).to.equal('AbortError');
      // Well before the upstream's 3 s delay is over, the gateway has closed the upstream call.
      await fake.waitForIdle(1500);
      expect(fake.requests[0]!.aborted).to.equal(true);
      const line = await waitForLogLine();
      expect(line.status).to.equal(499);
    });
  });

  describe('logs', () => {
    it('writes one JSON request line per request on stdout, with timings, and never the key', async () => {
      const { cli, url } = await startCli(['--port', '0']);
      const ok = await postJson(`${url}/v1/chat/completions`, CHAT, chatHeaders(fake));
      expect(ok.status).to.equal(200);
      const streamed = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...chatHeaders(fake) },
        body: JSON.stringify({ ...CHAT, model: 'gpt-4o', stream: true }),
      });
      expect(streamed.status).to.equal(200);
      expect(sseContent(await streamed.text())).to.equal('Hello from lifecycle-upstream');
      const bad = await postJson(`${url}/v1/chat/completions`, CHAT, { authorization: `Bearer ${KEY}` });
      expect(bad.status).to.equal(400);

      const ids = [ok, bad].map((r) => r.headers.get('x-waygate-request-id'));
      const streamId = streamed.headers.get('x-waygate-request-id');
      expect(ids[0]).to.be.a('string');
      expect(streamId).to.be.a('string');
      expect(ids[1]).to.be.a('string');

      // Logging is asynchronous; stopping the process must flush it: no line may be lost at shutdown.
      cli.kill('SIGTERM');
      expect((await cli.waitExit()).code).to.equal(0);

      const all = cli.logLines(); // throws if any stdout line is not JSON
      expect(all.length).to.be.greaterThan(0);
      for (const l of all) {
        expect(l.service).to.equal('waygate');
        expect(l.level).to.be.a('string');
        expect(l.time).to.be.a('string');
      }
      expect(all.some((l) => l.msg === 'listening')).to.equal(true);
      const reqs = all.filter((l) => l.msg === 'request');
      expect(reqs).to.have.length(3);

      const byId = (id: string | null) => reqs.filter((l) => l.reqId === id);
      const [okLine] = byId(ids[0]!);
      const [streamLine] = byId(streamId);
      const [badLine] = byId(ids[1]!);
      expect(byId(ids[0]!)).to.have.length(1);
      expect(byId(streamId)).to.have.length(1);
      expect(byId(ids[1]!)).to.have.length(1);

      for (const line of [okLine!, streamLine!]) {
        expect(line).to.include({ route: '/v1/chat/completions', method: 'POST', status: 200, provider: 'openai', level: 'info' });
        for (const k of ['totalMs', 'upstreamMs', 'overheadMs']) {
          expect(line[k], k).to.be.a('number');
          expect(line[k], k).to.be.at.least(0);
        }
        expect(line.totalMs).to.be.at.least(line.upstreamMs);
      }
      expect(okLine!.model).to.equal('gpt-4o-mini');
      expect(okLine!.stream).to.equal(false);
      expect(streamLine!.model).to.equal('gpt-4o');
      expect(streamLine!.stream).to.equal(true);
      expect(badLine).to.include({ route: '/v1/chat/completions', status: 400, level: 'warn', errorCode: 'missing_provider' });

      expect(cli.stdout).to.not.include(KEY);
      expect(cli.stderr).to.not.include(KEY);
    });

    it('WAYGATE_LOG_LEVEL=warn suppresses info lines but keeps warnings', async () => {
      const { cli, url } = await startCli(['--port', '0'], { WAYGATE_LOG_LEVEL: 'warn' });
      expect((await postJson(`${url}/v1/chat/completions`, CHAT, chatHeaders(fake))).status).to.equal(200);
      expect((await postJson(`${url}/v1/chat/completions`, CHAT, {})).status).to.equal(400);
      await cli.waitFor('a warn line', () => (cli.logLines().some((l) => l.msg === 'request') ? true : undefined));
      cli.kill('SIGTERM');
      expect((await cli.waitExit()).code).to.equal(0);
      const all = cli.logLines();
      expect(all.length).to.be.greaterThan(0);
      expect(all.filter((l) => l.level === 'info')).to.deep.equal([]);
      const reqs = all.filter((l) => l.msg === 'request');
      expect(reqs).to.have.length(1);
      expect(reqs[0]).to.include({ status: 400, level: 'warn' });
      // The banner still goes to stderr: it is not a log line.
      expect(cli.stderr).to.include('listening on');
    });
  });
});
