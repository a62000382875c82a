// Instructions per request, counted by valgrind's callgrind: a number that stays the same on a
// machine too busy for req/s to mean much. Starts the fake upstream and a Waygate (the CLI with its
// default plugins) under callgrind on 127.0.0.1, sends warm-up requests one at a time with
// instrumentation off, then counts the instructions of the measured requests (every thread of the
// gateway: the JavaScript, V8's compiler and GC, libuv). V8 runs `--single-threaded`, so
// optimisations happen at the same points in every run.
//
// Usage: node test/dist/bench/instructions.js [--case stream|chat] [--requests 2000] [--warmup 8000]
//        [--tree DIR] (another checkout, built, to measure its gateway against the same upstream)
//        [--governed] (with @waygate/auth on, as the bench's waygate-governed: a virtual key from the
//        SQLite store with a rate limit, cost and spend on every request)
//        [--without PKG[,PKG]] (default plugins left out, e.g. @waygate/metrics, to see what one costs)
//        [--traced] (as the bench's waygate-traced: @waygate/tracing at sampling 1.0, OTLP/HTTP batches to
//        the collector in the upstream process; OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is passed through)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { freePort, killAll, killAllSync, spawnNode, waitForHttp200, waitForLine } from './procs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'stream' },
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '8000' },
    tree: { type: 'string', default: path.resolve(here, '..', '..', '..') },
    governed: { type: 'boolean', default: false },
    without: { type: 'string', default: '' },
    traced: { type: 'boolean', default: false },
  },
});
const kase = values.case;
if (kase !== 'stream' && kase !== 'chat') throw new Error(`--case must be stream or chat (got ${kase})`);
const requests = Number(values.requests);
const warmup = Number(values.warmup);
if (!(Number.isInteger(requests) && requests > 0 && Number.isInteger(warmup) && warmup >= 0)) throw new Error('--requests and --warmup are counts');
// The CLI moved from core/dist/src/cli.js to core/dist/bin/waygate.js in the core refactor.
const cli = [path.join(values.tree, 'core', 'dist', 'bin', 'waygate.js'), path.join(values.tree, 'core', 'dist', 'src', 'cli.js')].find(existsSync);
if (!cli) throw new Error(`${values.tree}: no built Waygate CLI (run npx tsc -b there)`);
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('valgrind is not installed (apt-get install valgrind)');
}

process.on('exit', killAllSync);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'waygate-instructions-'));
try {
  const upstream = spawnNode('upstream', path.join(here, 'upstream.js'), ['--port', '0', '--chunks', '10'], {
    nodeArgs: ['--import', pathToFileURL(path.join(here, 'loopback.js')).href],
    stdout: true,
  });
  const ready = await waitForLine(upstream, /^READY (\d+) \S+ (\S+)/);
  const baseURL = `http://127.0.0.1:${ready[1]}/v1`;
  const traced = values.traced ? [{ module: '@waygate/tracing', options: { endpoint: `${ready[2]}/traces`, sampleRatio: 1 } }] : [];
  const port = await freePort();
  const config = path.join(tmp, 'config.json');
  const ADMIN = 'instructions-admin-key-0123456789';
  const without = values.without
    .split(',')
    .filter(Boolean)
    .map((module) => ({ module, enabled: false }));
  writeFileSync(
    config,
    JSON.stringify(
      values.governed
        ? {
            log: { level: 'warn' },
            plugins: [
              { module: '@waygate/auth', options: { adminKey: ADMIN, store: { type: 'sqlite', path: path.join(tmp, 'keys.sqlite') } } },
              ...without,
              ...traced,
            ],
            providers: { openai: { api_key: 'sk-bench', base_url: baseURL } },
            routing: { provider: 'openai' },
          }
        : { log: { level: 'warn' }, plugins: [...without, ...traced] },
    ),
  );
  const out = path.join(tmp, 'callgrind.out');
  const gateway = spawnNode('waygate', cli, ['--port', String(port), '--host', '127.0.0.1', '--config', config], {
    wrapper: ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`],
    nodeArgs: ['--single-threaded'],
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp200(gateway, `${origin}/health`, 300_000);

  const pool = new Pool(origin, { connections: 1 });
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello' }],
    ...(kase === 'stream' ? { stream: true } : {}),
  });
  let headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: 'Bearer sk-bench',
    'x-waygate-provider': 'openai',
    'x-waygate-custom-host': baseURL,
  };
  if (values.governed) {
    const made = await pool.request({
      path: '/admin/keys',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ name: 'bench', rate_limit: { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000 } }),
    });
    const key = ((await made.body.json()) as { key?: string }).key;
    if (made.statusCode !== 201 || !key) throw new Error(`could not create a virtual key (HTTP ${made.statusCode})`);
    headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  }
  const send = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 200 || (kase === 'stream' && !text.includes('[DONE]')))
        throw new Error(`request ${i}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    }
  };
  await send(warmup);
  const control = (...args: string[]) => execFileSync('callgrind_control', [...args, String(gateway.pid)], { stdio: 'ignore' });
  control('--instr=on');
  await send(requests);
  control('--dump');
  control('--instr=off');
  await pool.close();
  const dump = readFileSync(`${out}.1`, 'utf8');
  const total = Number(/^summary:\s*(\d+)/m.exec(dump)?.[1] ?? /^totals:\s*(\d+)/m.exec(dump)?.[1]);
  console.log(
    `${kase}${values.governed ? ' (governed)' : ''}${values.traced ? ` (traced, ${process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? 'default protocol'})` : ''}${values.without ? ` (without ${values.without})` : ''}: ${requests} requests after ${warmup} warm-up: ${total.toLocaleString('en-US')} instructions, ${Math.round(total / requests).toLocaleString('en-US')} per request`,
  );
  console.log(`(${cli})`);
} finally {
  await killAll();
  rmSync(tmp, { recursive: true, force: true });
}
