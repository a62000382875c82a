#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startGateway } from '../src/gateway.js';
import type { Gateway } from '../src/gateway.js';
import { CORE_VERSION } from '../src/version.js';
import { keysCommand } from './keys.js';

const USAGE = `Usage: waygate [--config FILE] [--port N] [--host H]
       waygate keys <create|list|show|revoke|generate> ...   (waygate keys --help)

  --config FILE   JSON config file (default: $WAYGATE_CONFIG, else the embedded default)
  --port N        port to listen on (default: $PORT, else the config's server.port, else 8787)
  --host H        address to bind (default: $HOST, else the config's server.host, else 127.0.0.1)
  --version       print the version
  --help          print this help

Environment: WAYGATE_LOG_LEVEL overrides the config's log.level; WAYGATE_ADMIN_KEY turns gateway
authentication on (see @waygate/auth).`;

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

  let gateway: Gateway;
  try {
    gateway = await startGateway({ config, port, host });
  } catch (err) {
    process.stderr.write(`waygate: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const plugins = gateway.kernel.plugins.map((p) => `${p.name}@${p.version}`);
  gateway.kernel.logger.info({ url: gateway.url, config: config ?? '(embedded default)', plugins }, 'listening');
  process.stderr.write(
    `Waygate ${CORE_VERSION} listening on ${gateway.url} (config: ${config ?? 'embedded default'})\n` +
      `Plugins loaded:\n${plugins.map((p) => `  ${p}`).join('\n')}\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`waygate: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    const deadline = gateway.kernel.config.server.shutdownTimeoutMs;
    process.stderr.write(`waygate: ${signal}: draining in-flight requests (up to ${deadline} ms)\n`);
    gateway.close(deadline).then(
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
}

void main();
