#!/usr/bin/env -S node --max-semi-space-size=32
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { watch } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startGateway } from '../src/gateway.js';
import type { Gateway } from '../src/gateway.js';
import { CORE_VERSION } from '../src/version.js';
import { keysCommand } from './keys.js';
import { startCliTracing } from './otel.js';

const USAGE = `Usage: waygate [--config FILE] [--port N] [--host H] [--watch] [--workers N|auto]
       waygate keys <create|list|show|revoke|generate> ...   (waygate keys --help)

  --config FILE   JSON config file (default: $WAYGATE_CONFIG, else the embedded default)
  --port N        port to listen on (default: $PORT, else the config's server.port, else 8787)
  --host H        address to bind (default: $HOST, else the config's server.host, else 127.0.0.1)
  --watch         reload the config when its file changes (as SIGHUP and POST /admin/reload do)
  --workers N     run N worker processes on one port (node:cluster; auto: one per CPU); a worker
                  that dies is replaced, SIGTERM drains them all, SIGHUP reloads them all
  --version       print the version
  --help          print this help

Environment: WAYGATE_LOG_LEVEL overrides the config's log.level; WAYGATE_ADMIN_KEY turns gateway
authentication on (see @waygate/auth). OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT turns OpenTelemetry traces on (OTLP/HTTP; the other OTEL_*
variables are honoured; see @waygate/tracing).`;

async function main(): Promise<void> {
  if (process.argv[2] === 'keys') {
    const out = (s: string) => void process.stdout.write(s);
    const err = (s: string) => void process.stderr.write(s);
    process.exitCode = await keysCommand(process.argv.slice(3), process.env, out, err);
    return;
  }
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        watch: { type: 'boolean' },
        workers: { type: 'string', short: 'w' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`waygate: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.version) {
    process.stdout.write(`${CORE_VERSION}\n`);
    return;
  }
  const portText = args.port ?? process.env.PORT;
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`waygate: --port must be a whole number from 0 to 65535 (got ${JSON.stringify(portText)})\n`);
      process.exit(2);
    }
  }
  const host = args.host ?? (process.env.HOST || undefined);
  const config = args.config ?? (process.env.WAYGATE_CONFIG || undefined);

  const workers = workerCount(args.workers ?? process.env.WAYGATE_WORKERS);
  if (workers > 1 && cluster.isPrimary) return superviseWorkers(workers);

  // The OpenTelemetry SDK, before the gateway loads (in each worker): plugins trace through @opentelemetry/api.
  // A worker told to stop while it is still starting (the primary drained right after forking it) stops once it has started.
  let stopWhenStarted = false;
  const early = (m: unknown) => void (m === 'waygate:stop' && (stopWhenStarted = true));
  process.on('message', early);
  const tracing = await startCliTracing(config);
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config, port, host });
  } catch (err) {
    process.stderr.write(`waygate: failed to start: ${(err as Error).message}\n`);
    await tracing?.stop(1000);
    process.exit(1);
  }
  const plugins = gateway.kernel.plugins.map((p) => `${p.name}@${p.version}`);
  gateway.kernel.logger.info({ url: gateway.url, config: config ?? '(embedded default)', plugins }, 'listening');
  process.stderr.write(
    `Waygate ${CORE_VERSION} listening on ${gateway.url} (config: ${config ?? 'embedded default'})\n` +
      `Plugins loaded:\n${plugins.map((p) => `  ${p}`).join('\n')}\n` +
      (tracing ? `OpenTelemetry traces: ${tracing.exporters.join(', ')}\n` : ''),
  );

  let stopping = false;
  const stop = (signal: string, again = true) => {
    if (stopping) {
      if (!again) return;
      process.stderr.write(`waygate: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    const deadline = gateway.kernel.config.server.shutdownTimeoutMs;
    process.stderr.write(`waygate: ${signal}: draining in-flight requests (up to ${deadline} ms)\n`);
    gateway
      .close(deadline)
      .then(() => tracing?.stop()) // the spans of the last requests go out before the exit
      .then(
        () => {
          gateway.kernel.logger.flush?.();
          process.exit(0);
        },
        (err: unknown) => {
          process.stderr.write(`waygate: error while stopping: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // A reload loads and checks the new config beside the running one; a refused one is logged and the old keeps serving.
  let reloading = Promise.resolve();
  const reload = (why: string) =>
    (reloading = reloading.then(() =>
      gateway.reload().then(
        (version) => void process.stderr.write(`waygate: ${why}: config reloaded (version ${version})\n`),
        (err: unknown) => {
          gateway.kernel.logger.error({ err: (err as Error).message }, 'config reload refused; the running config keeps serving');
          process.stderr.write(`waygate: ${why}: the new config was refused, the running one keeps serving: ${(err as Error).message}\n`);
        },
      ),
    ));
  process.on('SIGHUP', () => void reload('SIGHUP'));
  // Under --workers, the primary tells each worker (a terminal's Ctrl-C may also have reached it: then it is draining already).
  process.on('message', (m) => {
    if (m === 'waygate:stop') stop('stop from the primary', false);
    else if (m === 'waygate:reload') void reload('reload from the primary');
  });
  process.off('message', early);
  if (stopWhenStarted) stop('stop from the primary', false);
  if (args.watch && config) {
    // Editors write a file in several steps: one reload after the writes settle.
    let timer: NodeJS.Timeout | undefined;
    // The directory is watched, not the file: an editor that saves by renaming a new file over it would end a file watch.
    watch(path.dirname(config), (_event, name) => {
      if (name !== path.basename(config)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(`${config} changed`), 200);
    }).unref();
  }
}

function workerCount(text: string | undefined): number {
  if (text === undefined || text === '') return 1;
  if (text === 'auto') return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    process.stderr.write(`waygate: --workers must be a whole number from 1 to 1024 or auto (got ${JSON.stringify(text)})\n`);
    process.exit(2);
  }
  return n;
}

/**
 * The primary of `--workers N`: forks N workers, which share the port (node:cluster hands out the
 * connections), replaces one that dies, passes SIGHUP on (each reloads), and on SIGTERM or SIGINT
 * lets every worker drain and exits once all have.
 */
function superviseWorkers(n: number): void {
  let stopping = false;
  const live = new Set<Worker>();
  // A worker that dies at start-up (a bad config) would be replaced forever: stop after a burst of early deaths.
  const deaths: number[] = [];
  const fork = () => live.add(cluster.fork());
  const tellAll = (message: string) => {
    for (const w of live) if (w.isConnected()) w.send(message);
  };
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      if (live.size === 0) process.exit();
      return;
    }
    const now = Date.now();
    deaths.push(now);
    while (deaths[0]! < now - 10_000) deaths.shift();
    if (deaths.length > n * 3) {
      process.stderr.write(`waygate: workers keep dying (${deaths.length} in 10 s); stopping\n`);
      stopping = true;
      process.exitCode = 1;
      if (live.size === 0) process.exit();
      tellAll('waygate:stop');
      return;
    }
    process.stderr.write(`waygate: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    fork();
  });
  // A worker gathers something from all (a /metrics scrape): the primary asks each live worker and hands back their answers.
  const gathering = new Map<string, (from: Worker, value: unknown) => void>();
  cluster.on('message', (from, m: { waygate?: string; topic?: string; id?: string; value?: unknown }) => {
    if (m?.waygate === 'collected' && typeof m.id === 'string') gathering.get(m.id)?.(from, m.value);
    if (m?.waygate !== 'gather' || typeof m.id !== 'string') return;
    const key = `${from.id}:${m.id}`;
    const asked = [...live].filter((w) => w.isConnected());
    const values = new Map<Worker, unknown>();
    const done = () => {
      clearTimeout(timer);
      gathering.delete(key);
      if (from.isConnected()) from.send({ waygate: 'gathered', id: m.id, values: [...values.values()] });
    };
    const timer = setTimeout(done, 1500);
    gathering.set(key, (w, value) => {
      if (!values.has(w)) values.set(w, value);
      if (asked.every((a) => values.has(a) || !a.isConnected())) done();
    });
    for (const w of asked) w.send({ waygate: 'collect', topic: m.topic, id: key });
  });
  for (let i = 0; i < n; i++) fork();
  process.stderr.write(`waygate: primary ${process.pid} running ${n} workers\n`);
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`waygate: ${signal}: draining ${live.size} workers\n`);
    tellAll('waygate:stop');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => tellAll('waygate:reload'));
}

void main();
