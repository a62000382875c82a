import type { RequestContext } from './context.js';
import type { ConfigNode } from './types.js';
import type { FileConfig } from './config.js';
import type { NamedRegistry } from './registry.js';
import type { ProviderAdapter } from './contracts.js';
import { own } from './context.js';
import { unknownProvider } from './routing.js';
import { ConfigNodeSchema, formatIssues, joinPath } from './config.js';
import { ErrorCode, badRequest } from './errors.js';
import type { GatewayError } from './errors.js';

/** What resolving a request's config uses of the kernel. */
export interface ConfigServices {
  readonly config: Pick<FileConfig, 'routing' | 'server'>;
  readonly providers: Pick<NamedRegistry<ProviderAdapter>, 'has' | 'names'>;
  /** Checks a routing config against what loaded (providers, strategies, plugins' checks); throws a 400. */
  checkConfig(node: ConfigNode, where: string): void;
  /** A plugin taps CONFIG, where it may route a request that names no route (a model id naming its provider): the 400 waits until after it. */
  readonly routesAtConfig?: boolean;
}

/** The 400 for a request that names no provider or config where the gateway has no default routing. */
export function missingProvider(): GatewayError {
  return badRequest(
    ErrorCode.MISSING_PROVIDER,
    'No provider or config: send x-waygate-provider (or x-portkey-provider) with Authorization: Bearer <provider key>, ' +
      'or a routing config in x-waygate-config (or x-portkey-config), or set "routing" in the gateway config file',
  );
}

/**
 * Per-request configuration from headers, in Waygate's names and Portkey's (same meaning):
 *
 * | Waygate                     | Portkey                       | meaning                                   |
 * |-----------------------------|-------------------------------|-------------------------------------------|
 * | x-waygate-config            | x-portkey-config              | routing config JSON                        |
 * | x-waygate-provider          | x-portkey-provider            | provider slug (simple form; also the leaf  |
 * |                             |                               | of a config without provider or targets)   |
 * | x-waygate-custom-host       | x-portkey-custom-host         | base URL override                          |
 * | x-waygate-metadata          | x-portkey-metadata            | JSON object for routing and logs           |
 * | x-waygate-trace-id          | x-portkey-trace-id            | echoed back; defaults to the request id    |
 * | x-waygate-forward-headers   | x-portkey-forward-headers     | comma list of headers to copy upstream     |
 * | x-waygate-request-timeout   | x-portkey-request-timeout     | per-attempt timeout, ms                    |
 */
const NAMES = ['config', 'provider', 'custom-host', 'trace-id', 'metadata', 'forward-headers', 'request-timeout', 'deadline'] as const;
type Name = (typeof NAMES)[number];
/** Header names built once: [Waygate's, Portkey's]. */
const HEADER = Object.fromEntries(NAMES.map((n) => [n, [`x-waygate-${n}`, `x-portkey-${n}`] as const])) as Record<Name, readonly [string, string]>;

function header(ctx: RequestContext, name: Name): string | undefined {
  const [mine, portkey] = HEADER[name];
  const v = ctx.headers[mine];
  if (typeof v === 'string') return v;
  const pk = ctx.headers[portkey];
  if (typeof pk === 'string') {
    own(ctx).dialect = 'portkey';
    return pk;
  }
  return undefined;
}

const MAX_CACHED_CONFIGS = 1000;
const configCache = new Map<string, ConfigNode>();

/** Reads the request's routing config and per-request settings from its headers onto the context. */
export function resolveRequestConfig(ctx: RequestContext, services: ConfigServices): void {
  const self = own(ctx);
  const h = ctx.headers;
  for (const name in h) {
    if (name.startsWith('x-portkey-')) {
      self.dialect = 'portkey';
      break;
    }
  }

  const rawConfig = header(ctx, 'config');
  const provider = header(ctx, 'provider');
  const customHost = header(ctx, 'custom-host');
  const configHeaderName = ctx.dialect === 'portkey' && h['x-waygate-config'] === undefined ? 'x-portkey-config' : 'x-waygate-config';

  let config: ConfigNode | undefined;
  if (rawConfig !== undefined) {
    config = headerConfig(ctx, services, rawConfig, configHeaderName, provider?.trim(), customHost);
    self.configSource = 'header';
  } else if (provider !== undefined) {
    config = { provider: provider.trim() };
    self.configSource = 'provider-header';
  } else if (ctx.config) {
    config = ctx.config; // an auth plugin's grant (a virtual key's own config), the operator's like the file's
  } else if (services.config.routing) {
    config = services.config.routing;
    self.configSource = 'file';
  } else if (!services.routesAtConfig) throw missingProvider();
  // (A config header's node has the custom host in it already.)
  if (config && customHost !== undefined && ctx.configSource !== 'header') {
    if (ctx.configSource === 'provider-header') config.custom_host = customHost;
    else {
      config = { ...config, custom_host: customHost };
      self.configSource = 'header';
    }
    services.checkConfig(config, 'config');
  } else if (ctx.configSource === 'provider-header') services.checkConfig(config!, 'config');
  if (config) self.config = config;

  const trace = header(ctx, 'trace-id');
  if (trace) self.traceId = trace;

  const metadata = header(ctx, 'metadata');
  if (metadata !== undefined) self.metadata = { ...parseMetadata(metadata, services.config.server.maxJsonDepth), ...ctx.metadata }; // a grant's wins

  const forward = header(ctx, 'forward-headers');
  if (forward !== undefined) {
    const names = forward.split(',').flatMap((s) => s.trim().toLowerCase() || []);
    const bad = names.find((n) => n.endsWith('forward-headers'));
    if (bad) throw badRequest(ErrorCode.INVALID_HEADER, `forward-headers may not list ${bad}`, bad);
    self.forwardHeaders = names;
  }

  const timeout = header(ctx, 'request-timeout');
  if (timeout !== undefined) self.requestTimeoutMs = positiveMs(timeout, 'request-timeout');
  const deadline = header(ctx, 'deadline') ?? config?.deadline;
  if (deadline !== undefined) self.deadlineAt = ctx.t0 + (typeof deadline === 'number' ? deadline : positiveMs(deadline, 'deadline'));
}

function positiveMs(value: string, name: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw badRequest(ErrorCode.INVALID_HEADER, `${name} must be a positive whole number of milliseconds, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/**
 * The node a config header stands for. Clients send the same config over and over: it is parsed,
 * validated and checked once per distinct (config, custom host header, and for a config without a
 * provider the provider header) and then served from a bounded cache. The cached node is shared, so
 * nothing downstream may mutate it; it never holds the request's key (that is read per request).
 *
 * A config with neither `provider` nor `targets` (only hooks or guardrails, `retry`, `cache`,
 * `request_timeout`, ...) is Portkey's way of putting policy over the provider the headers name:
 * that provider becomes the config's leaf, called with the request's key (Authorization) and custom
 * host. Without a provider header such a config is a 400 that says where a provider can be named.
 */
function headerConfig(
  ctx: RequestContext,
  services: ConfigServices,
  raw: string,
  headerName: string,
  provider: string | undefined,
  customHost: string | undefined,
): ConfigNode {
  const cached =
    configCache.get(configKey(raw, customHost)) ?? (provider !== undefined ? configCache.get(configKey(raw, customHost, provider)) : undefined);
  if (cached) return cached;
  const hint = /^pc-/.test(raw.trim()) ? ' (saved config ids are a hosted Portkey feature; send the config JSON itself)' : '';
  const json = parseJsonHeader(raw, headerName, headerName, ErrorCode.INVALID_CONFIG, services.config.server.maxJsonDepth, hint);
  let key = configKey(raw, customHost);
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && !('provider' in json) && !('targets' in json)) {
    if (provider === undefined) {
      const [own, other] = headerName.startsWith('x-portkey-')
        ? ['x-portkey-provider', 'x-waygate-provider']
        : ['x-waygate-provider', 'x-portkey-provider'];
      throw badRequest(
        ErrorCode.MISSING_PROVIDER,
        `${headerName} names no provider (it has neither "provider" nor "targets") and the request names none either: ` +
          `send the provider in ${own} (or ${other}) with its key in Authorization: Bearer <provider key>, or name it in the config ("provider": "openai")`,
        headerName,
      );
    }
    if (!services.providers.has(provider)) {
      throw unknownProvider(services.providers, provider, ctx.headers['x-waygate-provider'] !== undefined ? 'x-waygate-provider' : 'x-portkey-provider');
    }
    (json as Record<string, unknown>).provider = provider;
    key = configKey(raw, customHost, provider);
  }
  let node = validateConfig(json, headerName);
  // The custom host header wins over the config's own, as in Portkey.
  if (customHost !== undefined) node = { ...node, custom_host: customHost };
  services.checkConfig(node, 'config');
  if (configCache.size >= MAX_CACHED_CONFIGS) configCache.delete(configCache.keys().next().value!);
  configCache.set(key, node);
  return node;
}

/**
 * The cache key of a config header's node: the config text alone (the common case, no extra work),
 * or with the custom host and, for a config without provider or targets, the provider header.
 * Header values hold no NUL, so the parts cannot run into each other.
 */
function configKey(raw: string, customHost: string | undefined, provider?: string): string {
  return customHost === undefined && provider === undefined ? raw : `\u0000${customHost ?? ''}\u0000${provider ?? ''}\u0000${raw}`;
}

/** A JSON header's value, depth-checked first. The parser's message quotes the text around the fault, which may be a key: give the position only. */
function parseJsonHeader(raw: string, what: string, param: string, code: string, maxDepth: number, hint = ''): unknown {
  checkDepth(raw, maxDepth, what, code, param);
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw badRequest(code, `${what} is not valid JSON${jsonErrorAt(err)}${hint}`, param);
  }
}

function validateConfig(json: unknown, headerName: string): ConfigNode {
  const parsed = ConfigNodeSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `Invalid ${headerName}: ${formatIssues(parsed.error, 'config')}`,
      first ? joinPath('config', first.path) : undefined,
    );
  }
  return parsed.data;
}

function parseMetadata(raw: string, maxDepth: number): Record<string, unknown> {
  const json = parseJsonHeader(raw, 'metadata header', 'metadata', ErrorCode.INVALID_HEADER, maxDepth);
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw badRequest(ErrorCode.INVALID_HEADER, 'metadata header must be a JSON object', 'metadata');
  return json as Record<string, unknown>;
}

/**
 * Refuses JSON text that nests arrays and objects deeper than `max` (server.maxJsonDepth) with a 400
 * naming the limit: an iterative scan before the parse (strings skipped), so nothing recursive later
 * (a cache key, a re-serialization) meets a value deep enough to overflow the stack.
 */
export function checkDepth(json: string, max: number, what: string, code: string = ErrorCode.INVALID_REQUEST, param?: string): void {
  for (let i = 0, depth = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 && (i = stringEnd(json, i)) === -1) return;
    else if ((c === 0x5b || c === 0x7b) && ++depth > max) throw badRequest(code, `${what} is nested deeper than server.maxJsonDepth (${max})`, param);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** The index of the quote that closes the JSON string opened at `at`, or -1: the next quote after an even number of backslashes (indexOf: strings are most of a body). */
export function stringEnd(json: string, at: number): number {
  for (let i = json.indexOf('"', at + 1), k = i; i !== -1; i = json.indexOf('"', i + 1)) {
    for (k = i; json.charCodeAt(k - 1) === 0x5c; k--);
    if ((i - k) % 2 === 0) return i;
  }
  return -1;
}

/** Where JSON.parse failed (" at position N"), without the text around it. */
export function jsonErrorAt(err: unknown): string {
  const m = /position (\d+)/.exec((err as Error).message ?? '');
  return m ? ` (at position ${m[1]})` : '';
}
