// `npm run bench`: Waygate vs. a bare Node passthrough vs. Portkey's gateway, all in front of the
// same fake OpenAI upstream, each its own child process on 127.0.0.1, driven by autocannon from
// this process. Rounds are interleaved across contenders so drift hits everyone alike; the
// report is ratios within one run, because load generator, upstream and contender share the
// machine's cores.
//
// Env: BENCH_DURATION (s per round, 5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32),
//      BENCH_ONLY (comma list of direct,passthrough,waygate,waygate-fallback,waygate-guardrail,waygate-cache,waygate-governed,waygate-keys,waygate-bare,waygate-workers,waygate-responses,waygate-traced,portkey), BENCH_CASES (chat,chat-c1,stream),
//      BENCH_WARMUP (s of unmeasured load before each round, 1), BENCH_WORKERS (autocannon worker threads, 0), BENCH_CHUNKS (SSE chunks, 10),
//      BENCH_STRICT=1 (exit 1 when a target is missed), BENCH_PORTKEY_COMPAT=0 (no Portkey SSE shim).
// Args: --json FILE (write all results as JSON).
import autocannon from 'autocannon';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { freePort, killAll, killAllSync, spawnNode, systemBusyMs, treeCpuMs, waitForHttp200, waitForLine, type Child } from './procs.js';
import {
  CASES,
  CONTENDERS,
  DESCRIPTIONS,
  RESULT_HEADER,
  fmtCheckValue,
  fmtCpu,
  fmtErrors,
  fmtMs,
  fmtRps,
  fmtTarget,
  machineLine,
  markdown,
  percentile,
  resultRows,
  settingsLine,
  summarize,
  textTable,
  type CaseName,
  type Check,
  type ContenderName,
  type Machine,
  type Report,
  type RunStats,
  type Settings,
} from './report.js';

// ---- configuration ------------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url));

function findRoot(): string {
  for (let dir = here; ;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'waygate') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
const root = findRoot();

function envNumber(name: string, fallback: number, min: number, integer: boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}=${raw}: expected ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return value;
}

function envList<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...all];
  const wanted = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const w of wanted) {
    if (!(all as readonly string[]).includes(w)) throw new Error(`${name}: unknown "${w}" (known: ${all.join(', ')})`);
  }
  return all.filter((name) => wanted.includes(name));
}

const { values: cli } = parseArgs({ options: { json: { type: 'string' } } });

const settings: Settings = {
  durationS: envNumber('BENCH_DURATION', 5, 1, false),
  warmupS: envNumber('BENCH_WARMUP', 1, 0, false),
  rounds: envNumber('BENCH_ROUNDS', 3, 1, true),
  connections: envNumber('BENCH_CONNECTIONS', 32, 1, true),
  workers: envNumber('BENCH_WORKERS', 0, 0, true),
  streamChunks: envNumber('BENCH_CHUNKS', 10, 1, true),
  contenders: envList('BENCH_ONLY', CONTENDERS),
  cases: envList('BENCH_CASES', CASES),
  skipped: {},
};

interface BenchCase {
  name: CaseName;
  connections: number;
  stream: boolean;
}
const CASE_DEFS: Record<CaseName, BenchCase> = {
  chat: { name: 'chat', connections: settings.connections, stream: false },
  'chat-c1': { name: 'chat-c1', connections: 1, stream: false },
  stream: { name: 'stream', connections: settings.connections, stream: true },
};

const BODY = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] };
const CHAT_BODY = JSON.stringify(BODY);
const STREAM_BODY = JSON.stringify({ ...BODY, stream: true });
const BEARER = 'Bearer sk-bench';
const LOOPBACK_PRELOAD = pathToFileURL(path.join(here, 'loopback.js')).href;
const PORTKEY_COMPAT_PRELOAD = pathToFileURL(path.join(here, 'portkey-compat.js')).href;
/** BENCH_PORTKEY_COMPAT=0 runs Portkey without the streaming fix (its stream precheck then fails). */
const PORTKEY_COMPAT = process.env.BENCH_PORTKEY_COMPAT !== '0';

// ---- lifecycle ----------------------------------------------------------------------------------

let tmpDir: string | null = null;
let currentLoad: autocannon.Instance | null = null;
let aborting = false;
let shuttingDown: Promise<never> | null = null;

function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    aborting = true;
    currentLoad?.stop();
    await killAll();
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
    process.exit(code);
  })();
  return shuttingDown;
}
process.on('exit', killAllSync);
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping children...`);
    void shutdown(code);
  });
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

// ---- contenders ---------------------------------------------------------------------------------

interface Contender {
  name: ContenderName;
  /** POST target for /v1/chat/completions. */
  url: string;
  headers: Record<string, string>;
  child: Child | null;
  /** Bodies of its own (another API than chat completions), checked by their own precheck. */
  bodies?: { chat: string; stream: string; check: (text: string, stream: boolean) => boolean };
}

interface Upstream {
  child: Child;
  origin: string;
  baseURL: string;
  /** The Anthropic-format fake beside it, in the same process. */
  anthropicBaseURL: string;
}

async function startUpstream(): Promise<Upstream> {
  const child = spawnNode('upstream', path.join(here, 'upstream.js'), ['--port', '0', '--chunks', String(settings.streamChunks)], {
    nodeArgs: ['--import', LOOPBACK_PRELOAD],
    stdout: true,
    cwd: root,
  });
  const match = await waitForLine(child, /^READY (\d+) \S+ (\S+)/);
  const origin = `http://127.0.0.1:${match[1]}`;
  return { child, origin, baseURL: `${origin}/v1`, anthropicBaseURL: match[2]! };
}

async function startPassthrough(upstream: Upstream): Promise<Contender> {
  const child = spawnNode('passthrough', path.join(here, 'passthrough.js'), ['--port', '0', '--upstream', upstream.origin], {
    stdout: true,
    cwd: root,
  });
  const match = await waitForLine(child, /^READY (\d+)/);
  return {
    name: 'passthrough',
    url: `http://127.0.0.1:${match[1]}/v1/chat/completions`,
    headers: { authorization: BEARER },
    child,
  };
}

const WAYGATE_CLI = path.join(root, 'core', 'dist', 'bin', 'waygate.js');

/** The Node flags of the CLI's shebang (`#!/usr/bin/env -S node FLAGS`): the gateway runs here as it runs when installed. */
function cliNodeArgs(): string[] {
  if (!existsSync(WAYGATE_CLI)) return [];
  const first = readFileSync(WAYGATE_CLI, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env(?: -S)? node(.*)$/.exec(first);
  return m ? m[1]!.split(' ').filter(Boolean) : [];
}

function spawnWaygate(name: string, args: string[]): Child {
  return spawnNode(name, WAYGATE_CLI, args, { stdout: true, cwd: root, nodeArgs: cliNodeArgs() });
}
const PORTKEY_SERVER = path.join(root, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

/**
 * `waygate-fallback`: the same gateway (its default plugins include the routing strategies), every
 * request carrying a fallback config whose first target answers: config parse, plan and the
 * fallback policy are on the path.
 */
const FALLBACK_PLUGIN_ENTRY = path.join(root, 'plugins', 'strategy-fallback', 'dist', 'src', 'index.js');

/** `waygate-guardrail`: one typical input guardrail (a regex that must not match, deny on failure). */
const GUARDRAIL_CONFIG = (baseURL: string) => ({
  provider: 'openai',
  custom_host: baseURL,
  input_guardrails: [{ 'default.regexMatch': { rule: '\\b(?:DROP|TRUNCATE)\\s+TABLE\\b', not: true }, deny: true }],
});

type PlainWaygate = 'waygate' | 'waygate-fallback' | 'waygate-guardrail' | 'waygate-bare' | 'waygate-workers' | 'waygate-traced';

async function startWaygate(upstream: Upstream, name: PlainWaygate = 'waygate'): Promise<Contender> {
  const port = await freePort();
  tmpDir ??= mkdtempSync(path.join(os.tmpdir(), 'waygate-bench-'));
  const config = path.join(tmpDir, `${name}.config.json`);
  // waygate-bare: the bundled metrics plugin turned off, to measure what it costs.
  // waygate-traced: every request traced (sampling 1.0), spans batched to the upstream process's collector.
  const plugins =
    name === 'waygate-bare'
      ? [{ module: '@waygate/metrics', enabled: false }]
      : name === 'waygate-traced'
        ? [{ module: '@waygate/tracing', options: { endpoint: `${upstream.anthropicBaseURL}/traces`, sampleRatio: 1 } }]
        : [];
  writeFileSync(config, JSON.stringify({ log: { level: 'warn' }, plugins }, null, 2));
  const workers = name === 'waygate-workers' ? ['--workers', '2'] : [];
  const child = spawnWaygate(name, ['--port', String(port), '--host', '127.0.0.1', '--config', config, ...workers]);
  await waitForHttp200(child, `http://127.0.0.1:${port}/health`);
  const target = { provider: 'openai', custom_host: upstream.baseURL };
  return {
    name,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers:
      name === 'waygate' || name === 'waygate-bare' || name === 'waygate-workers' || name === 'waygate-traced'
        ? { authorization: BEARER, 'x-waygate-provider': 'openai', 'x-waygate-custom-host': upstream.baseURL }
        : name === 'waygate-guardrail'
          ? { authorization: BEARER, 'x-waygate-config': JSON.stringify(GUARDRAIL_CONFIG(upstream.baseURL)) }
          : { authorization: BEARER, 'x-waygate-config': JSON.stringify({ strategy: { mode: 'fallback' }, targets: [target, target] }) },
    child,
  };
}

/**
 * `waygate-cache`: the same gateway with the in-memory exact cache (named in its config, so it loads
 * whether or not it is a default plugin), every request carrying a cache config. The precheck stores
 * the answer; from then on every request is a hit that never reaches the upstream.
 */
const CACHE_PLUGIN_ENTRY = path.join(root, 'plugins', 'cache-memory', 'dist', 'src', 'index.js');

async function startWaygateCache(upstream: Upstream): Promise<Contender> {
  const port = await freePort();
  tmpDir ??= mkdtempSync(path.join(os.tmpdir(), 'waygate-bench-'));
  const config = path.join(tmpDir, 'waygate-cache.config.json');
  writeFileSync(config, JSON.stringify({ log: { level: 'warn' }, plugins: ['@waygate/cache-memory'] }, null, 2));
  const child = spawnWaygate('waygate-cache', ['--port', String(port), '--host', '127.0.0.1', '--config', config]);
  await waitForHttp200(child, `http://127.0.0.1:${port}/health`);
  const routing = { provider: 'openai', custom_host: upstream.baseURL, cache: { mode: 'simple' } };
  return {
    name: 'waygate-cache',
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: { authorization: BEARER, 'x-waygate-config': JSON.stringify(routing) },
    child,
  };
}

/**
 * `waygate-governed` (and `waygate-keys`, the same without the request log): the same gateway with gateway auth on (an admin key, the SQLite store in the
 * run's temporary directory), the provider key in its config, and every request carrying a virtual
 * key made through the admin API with a request and a token limit per minute (high enough never to
 * refuse): the key lookup, the rate-limit counters, the price lookup and the spend row are all on
 * the path, with the metrics (default) and the request log (on with the admin key): the performance
 * issue's production case.
 */
const AUTH_PLUGIN_ENTRY = path.join(root, 'plugins', 'auth', 'dist', 'src', 'index.js');
const BENCH_ADMIN = 'bench-admin-key-0123456789abcdef';

async function startWaygateGoverned(upstream: Upstream, name: 'waygate-governed' | 'waygate-keys'): Promise<Contender> {
  const port = await freePort();
  tmpDir ??= mkdtempSync(path.join(os.tmpdir(), 'waygate-bench-'));
  const config = path.join(tmpDir, `${name}.config.json`);
  const auth = { adminKey: BENCH_ADMIN, store: { path: path.join(tmpDir, `${name}.sqlite`) } };
  // waygate-keys: governance alone, as the governance issue measures it (no request log).
  const plugins = [{ module: '@waygate/auth', options: auth }, ...(name === 'waygate-keys' ? [{ module: '@waygate/request-log', enabled: false }] : [])];
  writeFileSync(
    config,
    JSON.stringify(
      {
        log: { level: 'warn' },
        plugins,
        providers: { openai: { api_key: BEARER.slice(7), base_url: upstream.baseURL } },
        routing: { provider: 'openai' },
      },
      null,
      2,
    ),
  );
  const child = spawnWaygate(name, ['--port', String(port), '--host', '127.0.0.1', '--config', config]);
  await waitForHttp200(child, `http://127.0.0.1:${port}/health`);
  const made = await request(`http://127.0.0.1:${port}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', rate_limit: { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000 } }),
  });
  const key = ((await made.body.json()) as { key?: string }).key;
  if (made.statusCode !== 201 || !key) throw new Error(`${name}: could not create a virtual key (HTTP ${made.statusCode})`);
  return { name, url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` }, child };
}

/** One request to a contender before its rounds, its body read; for the prechecks below. */
async function probe(c: Contender, stream: boolean): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined> }> {
  const res = await request(c.url, {
    method: 'POST',
    headers: { ...c.headers, 'content-type': 'application/json' },
    body: c.bodies ? (stream ? c.bodies.stream : c.bodies.chat) : stream ? STREAM_BODY : CHAT_BODY,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  await res.body.text();
  return res;
}

/** The governed contender must really be governed: its answers carry the rate-limit headers and, for JSON, a cost. */
async function precheckGoverned(c: Contender, stream: boolean): Promise<void> {
  const res = await probe(c, stream);
  const limit = res.headers['x-ratelimit-limit-requests'];
  const cost = res.headers['x-waygate-cost'];
  if (res.statusCode !== 200 || limit === undefined || (!stream && (cost === undefined || cost === 'unknown'))) {
    throw new Error(
      `${c.name} precheck (${stream ? 'stream' : 'chat'}): HTTP ${res.statusCode}, x-ratelimit-limit-requests ${String(limit)}, x-waygate-cost ${String(cost)}`,
    );
  }
}

/** The cache contender must really answer from its cache: one more request, which must be a HIT. */
async function precheckCacheHit(c: Contender, stream: boolean): Promise<void> {
  const res = await probe(c, stream);
  const status = res.headers['x-waygate-cache-status'];
  if (res.statusCode !== 200 || status !== 'HIT') {
    throw new Error(
      `${c.name} precheck (${stream ? 'stream' : 'chat'}): expected a cache HIT, got HTTP ${res.statusCode} x-waygate-cache-status ${String(status)}`,
    );
  }
}

async function startPortkey(upstream: Upstream): Promise<Contender> {
  const port = await freePort();
  // Its stdout is a spinner and banners: discarded. One preload pins its listen() to 127.0.0.1,
  // the other works around its broken SSE path on Node (see portkey-compat.ts).
  const nodeArgs = ['--import', LOOPBACK_PRELOAD];
  if (PORTKEY_COMPAT) nodeArgs.push('--import', PORTKEY_COMPAT_PRELOAD);
  const child = spawnNode('portkey', PORTKEY_SERVER, [`--port=${port}`, '--headless'], {
    nodeArgs,
    stdout: false,
    cwd: root,
  });
  await waitForHttp200(child, `http://127.0.0.1:${port}/`);
  return {
    name: 'portkey',
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: {
      authorization: BEARER,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': upstream.baseURL,
    },
    child,
  };
}

/** Why a contender cannot run at all (not built / not installed), or null. */
function missing(name: ContenderName): string | null {
  if (name.startsWith('waygate') && !existsSync(WAYGATE_CLI)) {
    return `${path.relative(root, WAYGATE_CLI)} not found (build it first: npx tsc -b)`;
  }
  if (name === 'waygate-fallback' && !existsSync(FALLBACK_PLUGIN_ENTRY)) {
    return `${path.relative(root, FALLBACK_PLUGIN_ENTRY)} not found (build it first: npx tsc -b)`;
  }
  if (name === 'waygate-cache' && !existsSync(WAYGATE_CLI)) {
    return `${path.relative(root, WAYGATE_CLI)} not found (build it first: npx tsc -b)`;
  }
  if (name === 'waygate-cache' && !existsSync(CACHE_PLUGIN_ENTRY)) {
    return `${path.relative(root, CACHE_PLUGIN_ENTRY)} not found (build it first: npx tsc -b)`;
  }
  if ((name === 'waygate-governed' || name === 'waygate-keys') && !existsSync(AUTH_PLUGIN_ENTRY)) {
    return `${path.relative(root, AUTH_PLUGIN_ENTRY)} not found (build it first: npx tsc -b)`;
  }
  if (name === 'portkey' && !existsSync(PORTKEY_SERVER)) {
    return `${path.relative(root, PORTKEY_SERVER)} not found (is @portkey-ai/gateway installed?)`;
  }
  return null;
}

const RESPONSES_BODY = { model: 'claude-sonnet-4-5', input: 'Say hello', max_output_tokens: 64 };

/**
 * `waygate-responses`: plain Waygate, each request a `POST /v1/responses` to provider anthropic at
 * the Anthropic-format fake: the request translated to chat, then to Messages, and the answer (JSON,
 * or the event stream) back to a Response and its typed events.
 */
async function startWaygateResponses(upstream: Upstream): Promise<Contender> {
  const c = await startWaygate(upstream, 'waygate');
  return {
    ...c,
    name: 'waygate-responses',
    url: c.url.replace('/v1/chat/completions', '/v1/responses'),
    headers: { 'x-api-key': 'sk-ant-bench', 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': upstream.anthropicBaseURL },
    bodies: {
      chat: JSON.stringify(RESPONSES_BODY),
      stream: JSON.stringify({ ...RESPONSES_BODY, stream: true }),
      check: (text, stream) =>
        stream ? text.includes('event: response.output_text.delta') && text.includes('event: response.completed') : /"object":"response"/.test(text),
    },
  };
}

/** One real request per mode; anything but a well-formed 200 aborts the benchmark. */
async function precheck(c: Contender, stream: boolean): Promise<void> {
  const what = `${c.name} precheck (${stream ? 'stream' : 'chat'}) POST ${c.url}`;
  const res = await request(c.url, {
    method: 'POST',
    headers: { ...c.headers, 'content-type': 'application/json' },
    body: c.bodies ? (stream ? c.bodies.stream : c.bodies.chat) : stream ? STREAM_BODY : CHAT_BODY,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  const snippet = text.length > 600 ? `${text.slice(0, 600)}…` : text;
  if (res.statusCode !== 200) throw new Error(`${what}: HTTP ${res.statusCode}\n${snippet}`);
  if (c.bodies) {
    if (!c.bodies.check(text, stream)) throw new Error(`${what}: not the answer its API documents\n${snippet}`);
  } else if (stream) {
    const type = String(res.headers['content-type'] ?? '');
    if (!type.includes('text/event-stream')) throw new Error(`${what}: content-type "${type}", expected text/event-stream`);
    if (!text.includes('chat.completion.chunk') || !text.includes('[DONE]')) {
      throw new Error(`${what}: not an SSE chat.completion.chunk stream ending in [DONE]\n${snippet}`);
    }
  } else {
    let object: unknown;
    try {
      object = (JSON.parse(text) as { object?: unknown }).object;
    } catch {
      throw new Error(`${what}: body is not JSON\n${snippet}`);
    }
    if (object !== 'chat.completion') throw new Error(`${what}: object is ${JSON.stringify(object)}, expected "chat.completion"\n${snippet}`);
  }
}

// ---- load ---------------------------------------------------------------------------------------

function cpuShare(before: number | null, after: number | null, wallMs: number): number | null {
  return before === null || after === null || wallMs <= 0 ? null : ((after - before) / wallMs) * 100;
}

function fire(c: Contender, bc: BenchCase, durationS: number, upstream: Upstream): Promise<RunStats> {
  if (aborting) return Promise.reject(new Error('aborted'));
  const samples: number[] = [];
  const upstreamPid = upstream.child.pid;
  const contenderPid = c.child?.pid ?? null;
  const upBefore = treeCpuMs(upstreamPid);
  const contenderBefore = contenderPid === null ? null : treeCpuMs(contenderPid);
  const systemBefore = systemBusyMs();
  const selfBefore = process.cpuUsage();
  const start = performance.now();

  return new Promise((resolve, reject) => {
    const options: autocannon.Options = {
      url: c.url,
      method: 'POST',
      headers: { ...c.headers, 'content-type': 'application/json' },
      body: c.bodies ? (bc.stream ? c.bodies.stream : c.bodies.chat) : bc.stream ? STREAM_BODY : CHAT_BODY,
      connections: bc.connections,
      duration: durationS,
      pipelining: 1,
      timeout: 10,
    };
    if (settings.workers > 0) options.workers = settings.workers;
    const instance = autocannon(options, (err, result) => {
      currentLoad = null;
      if (err) {
        reject(err);
        return;
      }
      const wallMs = performance.now() - start;
      const self = process.cpuUsage(selfBefore);
      const loadgen = ((self.user + self.system) / 1000 / wallMs) * 100;
      const upstreamCpu = cpuShare(upBefore, treeCpuMs(upstreamPid), wallMs);
      const contenderCpu = contenderPid === null ? null : cpuShare(contenderBefore, treeCpuMs(contenderPid), wallMs);
      const system = cpuShare(systemBefore, systemBusyMs(), wallMs);
      const other =
        system === null || upstreamCpu === null || (contenderPid !== null && contenderCpu === null)
          ? null
          : Math.max(0, system - loadgen - upstreamCpu - (contenderCpu ?? 0));
      const cpu = { loadgen, upstream: upstreamCpu, contender: contenderCpu, other };
      let p50: number;
      let p99: number;
      let mean: number;
      if (settings.workers > 0) {
        // Worker threads do not surface per-response events; fall back to autocannon's
        // whole-millisecond histogram.
        ({ p50, p99, average: mean } = result.latency);
      } else {
        const sorted = Float64Array.from(samples).sort();
        p50 = percentile(sorted, 50);
        p99 = percentile(sorted, 99);
        mean = sorted.reduce((acc, v) => acc + v, 0) / (sorted.length || NaN);
      }
      const ok = result['2xx'];
      resolve({
        cpuUsPerReq: contenderCpu === null || ok === 0 ? null : ((contenderCpu / 100) * wallMs * 1000) / ok,
        rps: ok / result.duration,
        p50,
        p99,
        mean,
        ok,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        durationS: result.duration,
        cpu,
      });
    });
    currentLoad = instance;
    if (settings.workers === 0) {
      // autocannon's own histogram has 1 ms resolution; these are hrtime-based, fractional ms.
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) samples.push(responseTime);
      });
    }
  });
}

// ---- main ---------------------------------------------------------------------------------------

function packageVersion(file: string): string | null {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

function machineFacts(): Machine {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    autocannon: packageVersion(path.join(root, 'node_modules', 'autocannon', 'package.json')) ?? 'unknown',
    portkey: packageVersion(path.join(root, 'node_modules', '@portkey-ai', 'gateway', 'package.json')),
  };
}

function rotate<T>(items: T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function buildChecks(report: Report): Check[] {
  const checks: Check[] = [];
  const get = (caseName: CaseName, name: ContenderName) => report.summary[caseName]?.[name];
  const judge = (value: number | null, target: Check['target']): Check['result'] => {
    if (target === null) return 'INFO';
    if (value === null || !Number.isFinite(value)) return 'SKIP';
    return (target.op === '>=' ? value >= target.value : value <= target.value) ? 'PASS' : 'MISS';
  };
  const ratio = (caseName: CaseName, a: ContenderName, b: ContenderName, target: number | null): void => {
    if (!report.settings.cases.includes(caseName)) return;
    const x = get(caseName, a);
    const y = get(caseName, b);
    const value = x && y && y.rps > 0 ? x.rps / y.rps : null;
    const t = target === null ? null : { op: '>=' as const, value: target };
    checks.push({ label: `${caseName}: ${a} req/s ÷ ${b} req/s`, value, unit: '×', target: t, result: judge(value, t) });
  };
  const added = (caseName: CaseName, a: ContenderName, b: ContenderName, target: number | null): void => {
    if (!report.settings.cases.includes(caseName)) return;
    const x = get(caseName, a);
    const y = get(caseName, b);
    const value = x && y ? x.p50 - y.p50 : null;
    const t = target === null ? null : { op: '<=' as const, value: target };
    checks.push({ label: `${caseName}: ${a} p50 − ${b} p50`, value, unit: 'ms', target: t, result: judge(value, t) });
  };
  // The targets of the performance issue (16), as ratios of one run. Its earlier "8x Portkey" is
  // retired (the passthrough's own ratio to Portkey swings 8-28x between machines): context only.
  ratio('chat', 'waygate', 'passthrough', 0.85);
  ratio('chat', 'waygate', 'portkey', null);
  added('chat-c1', 'waygate', 'passthrough', 0.05);
  ratio('stream', 'waygate', 'passthrough', 0.9);
  ratio('stream', 'waygate', 'portkey', null);
  ratio('chat', 'waygate-fallback', 'passthrough', null);
  ratio('stream', 'waygate-fallback', 'passthrough', null);
  // A memory cache hit answers without an upstream call: it should beat the bare proxy that makes one.
  ratio('chat', 'waygate-cache', 'passthrough', 1.5);
  ratio('stream', 'waygate-cache', 'passthrough', 2);
  added('chat-c1', 'waygate-cache', 'passthrough', 0);
  // The production case: a virtual key from the store, a rate limit, cost, metrics and the request
  // log (on with the admin key) on every request.
  ratio('chat', 'waygate-governed', 'passthrough', 0.75);
  ratio('stream', 'waygate-governed', 'passthrough', 0.75);
  // Context, no target.
  const cost = (caseName: CaseName, a: ContenderName, b: ContenderName): void => {
    if (!report.settings.cases.includes(caseName)) return;
    const x = get(caseName, a)?.cpuUsPerReq;
    const y = get(caseName, b)?.cpuUsPerReq;
    const value = x != null && y != null ? x - y : null;
    checks.push({ label: `${caseName}: ${a} CPU/req − ${b} CPU/req`, value, unit: 'µs', target: null, result: 'INFO' });
  };
  cost('chat', 'waygate', 'passthrough');
  cost('stream', 'waygate', 'passthrough');
  cost('chat', 'waygate-cache', 'passthrough');
  // What one typical input guardrail costs per request, against the same gateway without it.
  ratio('chat', 'waygate-guardrail', 'waygate', 0.9);
  ratio('stream', 'waygate-guardrail', 'waygate', 0.9);
  cost('chat', 'waygate-guardrail', 'waygate');
  // Governance (auth from the store, a rate limit, cost and spend) on every request: the governance
  // issue's target is at most 15% of plain Waygate's throughput. The request log is measured apart.
  ratio('chat', 'waygate-keys', 'waygate', 0.85);
  ratio('stream', 'waygate-keys', 'waygate', 0.85);
  cost('chat', 'waygate-keys', 'waygate');
  ratio('chat', 'waygate-governed', 'waygate-keys', null);
  cost('chat', 'waygate-governed', 'waygate-keys');
  // Metrics on every request (the default) against none: the issue's target is at most 5% of throughput.
  ratio('chat', 'waygate', 'waygate-bare', 0.95);
  ratio('stream', 'waygate', 'waygate-bare', 0.95);
  cost('chat', 'waygate', 'waygate-bare');
  // Tracing every request (metrics on in both): the issue's target is at most 15% of throughput.
  ratio('chat', 'waygate-traced', 'waygate', 0.85);
  ratio('stream', 'waygate-traced', 'waygate', 0.85);
  cost('chat', 'waygate-traced', 'waygate');
  // Two workers against one, on a machine whose cores the load generator and the upstream share.
  ratio('chat', 'waygate-workers', 'waygate', null);
  ratio('stream', 'waygate-workers', 'waygate', null);
  // The Responses API bridged to an Anthropic-format upstream, against chat completions passed through.
  ratio('chat', 'waygate-responses', 'waygate', null);
  ratio('stream', 'waygate-responses', 'waygate', 0.8);
  cost('stream', 'waygate-responses', 'waygate');
  // The floor against Portkey: what a bare Node proxy reaches. A "waygate ÷ portkey" target above
  // this one asks Waygate to beat the bare proxy itself.
  ratio('chat', 'passthrough', 'portkey', null);
  ratio('stream', 'passthrough', 'portkey', null);
  ratio('chat', 'passthrough', 'direct', null);
  added('chat-c1', 'passthrough', 'direct', null);
  added('chat-c1', 'portkey', 'passthrough', null);
  return checks.filter((c) => c.result !== 'INFO' || c.value !== null);
}

/** Is the load generator (or the machine) the bottleneck? Derived from the CPU accounting. */
function cpuNotes(report: Report): string[] {
  const notes: string[] = [];
  const cores = report.machine.cores;
  const all = report.settings.cases.flatMap((caseName) =>
    Object.entries(report.summary[caseName] ?? {}).map(([name, s]) => ({ caseName, name, cpu: s.cpu })),
  );
  const tag = (x: { caseName: string; name: string }, v: number): string => `${x.caseName}/${x.name} ${Math.round(v)}%`;

  const HOT = 85;
  const peakOf = (rows: typeof all): { v: number; x: (typeof all)[number] | null } =>
    rows.reduce<{ v: number; x: (typeof all)[number] | null }>((best, x) => ((x.cpu.loadgen ?? 0) > best.v ? { v: x.cpu.loadgen ?? 0, x } : best), {
      v: 0,
      x: null,
    });
  const proxies = all.filter((x) => x.name !== 'direct');
  const hot = proxies.filter((x) => x.cpu.loadgen !== null && x.cpu.loadgen >= HOT);
  if (hot.length > 0) {
    notes.push(
      `the load generator (autocannon, single-threaded) used ≥ ${HOT}% of a core in ${hot.map((x) => tag(x, x.cpu.loadgen!)).join(', ')}: ` +
        'there the client may cap req/s, so ratios against those rows understate the gap (try BENCH_WORKERS).',
    );
  } else {
    const peak = peakOf(proxies);
    if (peak.x) {
      notes.push(`the load generator was not the bottleneck for any proxy: it peaked at ${tag(peak.x, peak.v)} of one core.`);
    }
  }
  const directPeak = peakOf(all.filter((x) => x.name === 'direct'));
  if (directPeak.x && directPeak.v >= HOT) {
    notes.push(
      `against the bare upstream the load generator reached ${tag(directPeak.x, directPeak.v)} of a core: ` +
        '`direct` rows are a client/upstream-bound ceiling, context only.',
    );
  }

  const saturated = all.filter((x) => {
    const total = (x.cpu.loadgen ?? 0) + (x.cpu.upstream ?? 0) + (x.cpu.contender ?? 0) + (x.cpu.other ?? 0);
    return total >= cores * 100 * 0.9;
  });
  if (saturated.length > 0) {
    notes.push(
      `the machine's ${cores} cores were ~fully busy in ${saturated.length} of ${all.length} rows ` +
        '(load generator, upstream and contender share them), so absolute req/s are machine-bound: compare ratios.',
    );
  }
  const disturbed = all.filter((x) => x.cpu.other !== null && x.cpu.other >= 25);
  if (disturbed.length > 0) {
    notes.push(
      `other CPU activity (other processes, unattributed kernel time) was ≥ 25% of a core in ${disturbed
        .map((x) => tag(x, x.cpu.other!))
        .join(', ')}: those rows are noisier; interleaved rounds spread the disturbance across contenders.`,
    );
  }
  return notes;
}

async function main(): Promise<void> {
  const machine = machineFacts();
  log(`Waygate benchmark — ${machine.date}`);
  log(machineLine(machine));
  log(settingsLine(settings));
  log('');

  const skipped: Settings['skipped'] = {};
  const wanted = settings.contenders.filter((name) => {
    const why = missing(name);
    if (why) {
      skipped[name] = why;
      log(`SKIP ${name}: ${why}`);
    }
    return !why;
  });

  log('starting fake upstream...');
  const upstream = await startUpstream();
  log(`  upstream  ${upstream.baseURL} (pid ${upstream.child.pid})`);
  const contenders: Contender[] = [];
  for (const name of wanted) {
    if (aborting) throw new Error('aborted');
    log(`starting ${name}...`);
    let contender: Contender;
    switch (name) {
      case 'direct':
        contender = { name, url: `${upstream.origin}/v1/chat/completions`, headers: { authorization: BEARER }, child: null };
        break;
      case 'passthrough':
        contender = await startPassthrough(upstream);
        break;
      case 'waygate':
      case 'waygate-fallback':
      case 'waygate-guardrail':
      case 'waygate-bare':
      case 'waygate-workers':
      case 'waygate-traced':
        contender = await startWaygate(upstream, name);
        break;
      case 'waygate-cache':
        contender = await startWaygateCache(upstream);
        break;
      case 'waygate-responses':
        contender = await startWaygateResponses(upstream);
        break;
      case 'waygate-governed':
      case 'waygate-keys':
        contender = await startWaygateGoverned(upstream, name);
        break;
      case 'portkey':
        contender = await startPortkey(upstream);
        break;
    }
    log(`  ${name.padEnd(11)} ${contender.url}${contender.child ? ` (pid ${contender.child.pid})` : ''} — ${DESCRIPTIONS[name]}`);
    contenders.push(contender);
  }
  if (contenders.length === 0) throw new Error('no contender to run (BENCH_ONLY / skips left nothing)');

  for (const c of contenders) {
    if (settings.cases.some((n) => !CASE_DEFS[n].stream)) await precheck(c, false);
    if (settings.cases.some((n) => CASE_DEFS[n].stream)) await precheck(c, true);
    if (c.name === 'waygate-governed' || c.name === 'waygate-keys') {
      if (settings.cases.some((n) => !CASE_DEFS[n].stream)) await precheckGoverned(c, false);
      if (settings.cases.some((n) => CASE_DEFS[n].stream)) await precheckGoverned(c, true);
    }
    if (c.name === 'waygate-cache') {
      if (settings.cases.some((n) => !CASE_DEFS[n].stream)) await precheckCacheHit(c, false);
      if (settings.cases.some((n) => CASE_DEFS[n].stream)) await precheckCacheHit(c, true);
    }
  }
  log('prechecks passed: every contender answers 200 with a chat.completion (and an SSE stream)');

  const perRun = settings.rounds * (settings.durationS + settings.warmupS);
  const estimate = settings.cases.length * contenders.length * perRun;
  log(`estimated load time: ~${Math.ceil(estimate)} s\n`);

  const report: Report = {
    machine,
    settings: { ...settings, contenders: contenders.map((c) => c.name), skipped },
    runs: {},
    summary: {},
    checks: [],
    notes: [],
  };

  for (const caseName of settings.cases) {
    const bc = CASE_DEFS[caseName];
    const runs: Partial<Record<ContenderName, RunStats[]>> = {};
    report.runs[caseName] = runs;
    log(`== ${caseName}: ${bc.stream ? 'stream:true' : 'non-streaming'}, ${bc.connections} connection(s)`);
    for (let round = 0; round < settings.rounds; round++) {
      for (const c of rotate(contenders, round)) {
        // Before every round, not only the first: with a dozen contenders each sits idle for a dozen
        // rounds between two of its own, and a round should measure it serving, not waking up.
        if (settings.warmupS > 0) await fire(c, bc, settings.warmupS, upstream);
        const stats = await fire(c, bc, settings.durationS, upstream);
        (runs[c.name] ??= []).push(stats);
        log(
          `  r${round + 1}/${settings.rounds} ${c.name.padEnd(11)} ${fmtRps(stats.rps).padStart(7)} req/s  ` +
            `p50 ${fmtMs(stats.p50).padStart(6)} ms  p99 ${fmtMs(stats.p99).padStart(6)} ms  ` +
            `errors ${fmtErrors(stats)}  cpu gen/up/proxy/other ${fmtCpu(stats.cpu)}`,
        );
      }
    }
    report.summary[caseName] = Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, summarize(list)])) as Partial<
      Record<ContenderName, ReturnType<typeof summarize>>
    >;
  }

  report.checks = buildChecks(report);
  report.notes = cpuNotes(report);
  if (contenders.some((c) => c.name === 'portkey')) {
    report.notes.push(
      PORTKEY_COMPAT
        ? 'portkey ran with test/bench/portkey-compat.ts preloaded: as installed (1.15.2 with @hono/node-server 1.19) ' +
            'it answers every stream:true chat with HTTP 500 "TypeError: immutable" (Portkey-AI/gateway#1389); the shim ' +
            'copies SSE upstream headers into a mutable Headers. A loopback preload also pins its listen() to 127.0.0.1.'
        : 'portkey ran without its streaming compat shim (BENCH_PORTKEY_COMPAT=0).',
    );
  }
  if (settings.workers === 0) {
    report.notes.push('latencies are per-response hrtime measurements taken from autocannon events (sub-ms resolution).');
  } else {
    report.notes.push(`autocannon ran ${settings.workers} worker threads; latencies come from its 1 ms-resolution histogram.`);
  }

  log('\n== results (median over rounds; CPU = % of one core: load generator / upstream / contender / other)');
  log(textTable(RESULT_HEADER, resultRows(report), 2));
  log('');
  log(
    textTable(
      ['check', 'value', 'target', 'result'],
      report.checks.map((c) => [c.label, fmtCheckValue(c), fmtTarget(c), c.result === 'INFO' ? '' : c.result]),
    ),
  );
  for (const [name, why] of Object.entries(skipped)) log(`skipped ${name}: ${why}`);
  for (const note of report.notes) log(`note: ${note}`);

  log('\n== Markdown (for BENCHMARKS.md)\n');
  log(markdown(report));

  if (cli.json) {
    writeFileSync(cli.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`\nwrote ${cli.json}`);
  }
  if (process.env.BENCH_STRICT === '1' && report.checks.some((c) => c.result === 'MISS')) {
    process.exitCode = 1;
  }
}

main().then(
  () => shutdown(typeof process.exitCode === 'number' ? process.exitCode : 0),
  (err: unknown) => {
    if (!aborting) console.error(`\nbenchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    void shutdown(aborting ? 130 : 1);
  },
);
