// Config hot reload and `--workers`: a new config (re-read from its file) is loaded and checked beside
// the running one, then serves new requests while a stream begun on the old one finishes on it; a
// config that fails validation is refused and the old keeps serving. Reached in process
// (gateway.reload), through POST /admin/reload, by SIGHUP and a file change to the real CLI, and
// across the workers of `--workers 2`.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { killAllClis, spawnCli } from './helpers/proc-cli.js';
import { LogCapture } from './helpers/api-support.js';
import { getJson, postJson, sseContent, tempDir, writeConfig } from './helpers/proc-util.js';

const ADMIN = 'wg-admin-reload-0123456789abcdef';
const CALLER = 'wg-caller-reload-0123456789abcdef';
/** @waygate/auth with the admin API on and one static gateway key. */
const AUTH = {
  plugins: [
    {
      module: '@waygate/auth',
      options: { adminKey: ADMIN, keys: [{ id: 'caller', name: 'caller', sha256: createHash('sha256').update(CALLER).digest('hex') }] },
    },
  ],
};

/**
 * An OpenAI-format upstream that answers with the model it was asked for. A stream for model
 * `hold-*` sends its first chunk, then waits for `release()` before the rest: an in-flight stream.
 */
class ModelEcho {
  readonly server: http.Server;
  readonly models: string[] = [];
  #waiting: Array<() => void> = [];
  #held = 0;
  #onHeld: Array<() => void> = [];

  constructor() {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8').on('data', (s: string) => (raw += s));
      req.on('end', () => void this.#answer(JSON.parse(raw) as { model: string; stream?: boolean }, res));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Resolves once a held stream has sent its first chunk. */
  whenHeld(): Promise<void> {
    return this.#held > 0 ? Promise.resolve() : new Promise((resolve) => this.#onHeld.push(resolve));
  }

  release(): void {
    for (const go of this.#waiting.splice(0)) go();
  }

  async #answer(body: { model: string; stream?: boolean }, res: http.ServerResponse): Promise<void> {
    this.models.push(body.model);
    const text = `answered by ${body.model}`;
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-r',
          object: 'chat.completion',
          created: 1,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
        }),
      );
      return;
    }
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-r', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ role: 'assistant', content: 'answered ' }));
    if (body.model.startsWith('hold-')) {
      this.#held++;
      for (const fn of this.#onHeld.splice(0)) fn();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    res.write(chunk({ content: `by ${body.model}` }));
    res.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const configFor = (upstream: string, model: string, extra: object = {}) => ({
  providers: { openai: { api_key: 'sk-reload-held', base_url: upstream } },
  routing: { provider: 'openai', override_params: { model } },
  ...extra,
});

const chat = (url: string, headers: Record<string, string> = {}) =>
  postJson(`${url}/v1/chat/completions`, { model: 'ignored', messages: [{ role: 'user', content: 'hi' }] }, headers);

/** A streamed chat, read to its end. */
async function streamChat(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'ignored', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, text: await res.text() };
}

describe('config hot reload (in process)', () => {
  let upstream: ModelEcho;
  let dir: { dir: string; cleanup: () => Promise<void> };
  let file: string;
  let gw: Gateway;
  let logs: LogCapture;

  before(async () => {
    upstream = await new ModelEcho().listen();
    dir = await tempDir('waygate-reload-');
    file = await writeConfig(dir.dir, configFor(upstream.url, 'hold-v1'));
    logs = new LogCapture('info');
    gw = await startGateway({ config: file, port: 0, host: '127.0.0.1', logger: logs.logger, env: { WAYGATE_DATA_DIR: dir.dir } });
  });
  after(async () => {
    await gw?.close(0);
    await upstream?.close();
    await dir?.cleanup();
  });

  it('a stream begun on the old config finishes on it while new requests get the new one; /health shows the new version', async () => {
    const before = (await getJson(`${gw.url}/health`)).body.config_version as string;
    const inFlight = streamChat(gw.url);
    await upstream.whenHeld();

    await writeConfig(dir.dir, configFor(upstream.url, 'v2'));
    const version = await gw.reload();
    expect(version).to.not.equal(before);
    expect((await getJson(`${gw.url}/health`)).body.config_version).to.equal(version);

    const fresh = await chat(gw.url);
    expect(fresh.status).to.equal(200);
    expect(fresh.body.choices[0].message.content).to.equal('answered by v2');

    upstream.release();
    const old = await inFlight;
    expect(old.status).to.equal(200);
    expect(sseContent(old.text)).to.equal('answered by hold-v1');
    expect(old.text).to.match(/data: \[DONE\]\n\n$/);
  });

  it('a config that fails validation is refused with its reasons, and the running one keeps serving', async () => {
    const serving = (await getJson(`${gw.url}/health`)).body.config_version as string;
    await writeConfig(dir.dir, { ...configFor(upstream.url, 'v3'), routing: { provider: 'no-such-provider' } });
    const err = await gw.reload().catch((e: unknown) => e as Error);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/no-such-provider/);
    expect((await getJson(`${gw.url}/health`)).body.config_version).to.equal(serving);
    expect((await chat(gw.url)).body.choices[0].message.content).to.equal('answered by v2');

    await writeFile(file, '{ "providers": ');
    expect(await gw.reload().catch((e: unknown) => e)).to.be.instanceOf(Error);
    expect((await chat(gw.url)).body.choices[0].message.content).to.equal('answered by v2');
  });

  it('POST /admin/reload: behind the admin key; 200 with the new version, 422 with the reasons for a bad config', async () => {
    await writeConfig(dir.dir, configFor(upstream.url, 'v4', AUTH));
    await gw.reload(); // the config that turns the admin API on
    const admin = { authorization: `Bearer ${ADMIN}` };

    const anonymous = await postJson(`${gw.url}/admin/reload`, {});
    expect(anonymous.status).to.equal(401);

    await writeConfig(dir.dir, configFor(upstream.url, 'v5', AUTH));
    const ok = await postJson(`${gw.url}/admin/reload`, {}, admin);
    expect(ok.status).to.equal(200);
    expect(ok.body).to.include({ reloaded: true });
    expect(ok.body.config_version).to.equal((await getJson(`${gw.url}/health`)).body.config_version);
    const caller = { authorization: `Bearer ${CALLER}` };
    expect((await chat(gw.url)).status).to.equal(401); // the new config's auth is on
    const served = await chat(gw.url, caller);
    expect(served.body.choices[0].message.content).to.equal('answered by v5');

    await writeConfig(dir.dir, { ...configFor(upstream.url, 'v6', AUTH), routing: { provider: 'no-such-provider' } });
    const refused = await postJson(`${gw.url}/admin/reload`, {}, admin);
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal('invalid_config');
    expect(refused.body.error.message).to.match(/no-such-provider/);
    expect((await chat(gw.url, caller)).body.choices[0].message.content).to.equal('answered by v5');

    const wrongMethod = await fetch(`${gw.url}/admin/reload`, { headers: admin });
    expect(wrongMethod.status).to.equal(405);
  });
});

/** The pids whose parent is `pid` (Linux's /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) found.push(Number(name));
  }
  return found.sort((a, b) => a - b);
}

describe('config hot reload and --workers (the CLI)', function () {
  this.timeout(60_000);
  let upstream: ModelEcho;
  let dir: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    upstream = await new ModelEcho().listen();
    dir = await tempDir('waygate-reload-cli-');
  });
  after(async () => {
    await killAllClis();
    await upstream?.close();
    await dir?.cleanup();
  });

  it('SIGHUP reloads; with --watch, saving the file does; a refused config is reported and the old serves', async () => {
    const file = await writeConfig(dir.dir, configFor(upstream.url, 'cli-v1'));
    const cli = spawnCli(['--config', file, '--port', '0', '--watch'], { env: { WAYGATE_DATA_DIR: dir.dir } });
    const { url } = await cli.ready();
    expect((await chat(url)).body.choices[0].message.content).to.equal('answered by cli-v1');

    await writeConfig(dir.dir, configFor(upstream.url, 'cli-v2'));
    await cli.waitForStderr(/changed: config reloaded/);
    expect((await chat(url)).body.choices[0].message.content).to.equal('answered by cli-v2');

    await writeConfig(dir.dir, { ...configFor(upstream.url, 'cli-v3'), routing: { provider: 'nope' } });
    await cli.waitForStderr(/the new config was refused, the running one keeps serving: .*nope/);
    expect((await chat(url)).body.choices[0].message.content).to.equal('answered by cli-v2');

    await writeConfig(dir.dir, configFor(upstream.url, 'cli-v4'));
    await cli.waitForStderr(/changed: config reloaded[^\n]*\n(?:.|\n)*changed: config reloaded/);
    cli.kill('SIGHUP');
    await cli.waitForStderr(/SIGHUP: config reloaded/);
    expect((await chat(url)).body.choices[0].message.content).to.equal('answered by cli-v4');

    cli.kill('SIGTERM');
    expect((await cli.waitExit()).code).to.equal(0);
  });

  it('--workers 2: two processes serve one port; a killed worker is replaced; SIGHUP reloads both; SIGTERM drains all', async () => {
    const file = await writeConfig(dir.dir, configFor(upstream.url, 'w-v1'), 'workers.json');
    const cli = spawnCli(['--config', file, '--port', '0', '--workers', '2'], { env: { WAYGATE_DATA_DIR: dir.dir } });
    await cli.waitForStderr(/running 2 workers/);
    const { url } = await cli.ready();
    await cli.waitForStderr(/listening on[^\n]*\n(?:.|\n)*listening on/);
    const workers = await childrenOf(cli.proc.pid!);
    expect(workers).to.have.length(2);
    expect((await chat(url)).body.choices[0].message.content).to.equal('answered by w-v1');

    // One worker killed: the other goes on serving the port, and the primary starts a new one.
    process.kill(workers[0]!, 'SIGKILL');
    await cli.waitForStderr(/exited \(SIGKILL\); starting another/);
    for (let i = 0; i < 5; i++) expect((await chat(url)).status).to.equal(200);
    await cli.waitForStderr(/listening on[^\n]*\n(?:.|\n)*listening on(?:.|\n)*listening on/);
    const now = await childrenOf(cli.proc.pid!);
    expect(now).to.have.length(2);
    expect(now).to.not.include(workers[0]);
    expect(now).to.include(workers[1]);

    await writeConfig(dir.dir, configFor(upstream.url, 'w-v2'), 'workers.json');
    cli.kill('SIGHUP');
    await cli.waitForStderr(/config reloaded(?:.|\n)*config reloaded/);
    for (let i = 0; i < 10; i++) expect((await chat(url, { connection: 'close' })).body.choices[0].message.content).to.equal('answered by w-v2');

    // The reload started every worker's counters afresh: a scrape of either worker counts the ten, which both served.
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const text = await fetch(`${url}/metrics`, { headers: { connection: 'close' } }).then((r) => r.text());
      counts.push([...text.matchAll(/^waygate_requests_total\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0));
    }
    expect(counts).to.deep.equal([10, 10, 10, 10]);

    cli.kill('SIGTERM');
    expect((await cli.waitExit()).code).to.equal(0);
  });
});
