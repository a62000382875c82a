import type { Logger } from 'pino';
import { Kernel } from './kernel.js';
import { ConfigError, configFromObject, loadConfigFile, LOG_LEVELS } from './config.js';
import type { FileConfig, FileConfigInput, LoadedConfig } from './config.js';
import { BeforeRequestStage } from './hooks.js';
import { createLogger } from './logger.js';
import { loadPlugins } from './loader.js';
import { createServer } from './server.js';
import { BUNDLED_PLUGINS } from './bundled.js';

export interface StartOptions {
  /** A config file path, a config object, or an already loaded config. Default: the embedded default. */
  config?: string | FileConfigInput | LoadedConfig;
  /** Directory that plugin paths in an object config are resolved against. Default: the working directory. */
  baseDir?: string;
  port?: number;
  host?: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /**
   * The plugins a config with `"defaultPlugins": true` (the default) loads before its own `plugins`.
   * Default: the distribution's bundled list (`BUNDLED_PLUGINS`); `[]` starts a bare kernel. The
   * kernel itself knows no plugin by name.
   */
  bundledPlugins?: readonly string[];
}

export interface Gateway {
  /** The kernel serving new requests (replaced by a reload). */
  readonly kernel: Kernel;
  readonly url: string;
  readonly port: number;
  readonly host: string;
  close(deadlineMs?: number): Promise<void>;
  /** Loads the config again (the file, re-read) and swaps it in for new requests; rejects, the old one serving, if it is invalid. */
  reload(): Promise<string>;
}

/** Loads the config and the plugins, seals the kernel and starts serving. Fails loudly on any plugin or config error. */
export async function startGateway(opts: StartOptions = {}): Promise<Gateway> {
  const kernel = await buildKernel(opts);
  try {
    const server = await createServer(kernel).listen(opts.port ?? kernel.config.server.port, opts.host ?? kernel.config.server.host);
    // A reload (SIGHUP, POST /admin/reload) builds and seals the new kernel beside the old, then swaps it in.
    const reload = async (): Promise<string> => {
      const next = await buildKernel({ ...opts, logger: opts.logger ?? gateway.kernel.logger });
      next.reloader = reload;
      void server.swap(next).catch((err: unknown) => next.logger.warn({ err: (err as Error).message }, 'the replaced config did not close cleanly'));
      return (gateway.kernel = next).configVersion;
    };
    const gateway = { kernel, url: server.url, port: server.port, host: server.host, close: (ms?: number) => server.close(ms), reload };
    kernel.reloader = reload;
    return gateway;
  } catch (err) {
    await kernel.close().catch(() => undefined);
    throw err;
  }
}

/** A sealed kernel for a config, its plugins loaded; nothing is listening yet. */
async function buildKernel(opts: StartOptions): Promise<Kernel> {
  const env = opts.env ?? process.env;
  const loaded = await loadConfig(opts.config, opts.baseDir ?? process.cwd(), env);
  const envLevel = env.WAYGATE_LOG_LEVEL || undefined;
  if (envLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(envLevel)) {
    throw new ConfigError(`WAYGATE_LOG_LEVEL ${JSON.stringify(envLevel)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const logger = opts.logger ?? createLogger({ level: envLevel ?? loaded.config.log.level });
  const kernel = new Kernel(loaded, logger, opts.host);
  try {
    // A config entry naming a default plugin replaces it (to give it options, or disable it).
    const named = new Set(loaded.config.plugins.map((e) => (typeof e === 'string' ? e : e.module)));
    const defaults = loaded.config.defaultPlugins ? (opts.bundledPlugins ?? BUNDLED_PLUGINS).filter((m) => !named.has(m)) : [];
    const entries = [...defaults, ...loaded.config.plugins];
    await loadPlugins(kernel, entries, loaded.baseDir, loaded.config.server.pluginSetupTimeoutMs);
    kernel.seal();
    if (kernel.endpoints.ids().length === 0) {
      const example = BUNDLED_PLUGINS.find((m) => m.endsWith('/openai-api')) ?? 'an endpoint plugin';
      throw new ConfigError(
        `No loaded plugin registers a client-facing endpoint (a plugin of kind "endpoint"), so every route would answer 404; with "defaultPlugins": false, list one in "plugins", e.g. ${example}`,
      );
    }
    logger.info({ private: kernel.egress.private, allow: loaded.config.egress.allow }, 'egress policy for caller-steered requests');
    const host = opts.host ?? loaded.config.server.host;
    if (!loaded.config.server.allowUnauthenticated && !/^(127\.|::1$|localhost$)/.test(host) && holdsKeys(loaded.config) && !authenticates(kernel)) {
      throw new ConfigError(
        `Refusing to listen on ${host}: this config holds provider keys and no gateway authentication is on, so anyone who reaches the port spends them. ` +
          'Set WAYGATE_ADMIN_KEY (or give the auth plugin keys), listen on 127.0.0.1, or set "server": {"allowUnauthenticated": true}',
      );
    }
    return kernel;
  } catch (err) {
    await kernel.close().catch(() => undefined);
    throw err;
  }
}

/** Whether the config file holds a provider key (for a provider, or in its routing config). */
const inNode = (n: FileConfig['routing']): boolean => !!n && (n.api_key !== undefined || !!n.targets?.some(inNode));
const holdsKeys = (config: FileConfig) => Object.values(config.providers).some((p) => p.api_key !== undefined) || inNode(config.routing);

/** Whether some plugin authenticates callers: a tap at BeforeRequestStage.AUTH. */
const authenticates = (kernel: Kernel) => kernel.hooks.beforeRequest.taps.some((t) => t.stage === BeforeRequestStage.AUTH);

const isLoaded = (c: unknown): c is LoadedConfig => !!c && typeof c === 'object' && 'config' in c && 'baseDir' in c && 'version' in c;

async function loadConfig(config: StartOptions['config'], baseDir: string, env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  if (typeof config === 'string') return loadConfigFile(config, env);
  if (isLoaded(config)) return config;
  return configFromObject(config ?? {}, baseDir, env);
}
