import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type { ConfigNode } from './types.js';
import { allowEntry } from './egress.js';

/**
 * Configuration: the gateway's JSON config file, and the routing config that a file or a request
 * (x-waygate-config / x-portkey-config) carries. Both are validated with zod; every error names the
 * path of the offending field.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const statusCodes = z.array(z.number().int().min(100).max(599));

/** One node of a routing config (Portkey's schema). Unknown keys pass: they are provider options. */
export const ConfigNodeSchema: z.ZodType<ConfigNode> = z.lazy(() =>
  z
    .looseObject({
      provider: z.string().min(1).optional(),
      api_key: z.string().optional(),
      custom_host: z.string().min(1).optional(),
      override_params: z.record(z.string(), z.unknown()).optional(),
      strategy: z
        .looseObject({
          mode: z.string().min(1),
          on_status_codes: statusCodes.optional(),
          conditions: z.array(z.looseObject({ query: z.record(z.string(), z.unknown()), then: z.string().min(1) })).optional(),
          default: z.string().min(1).optional(),
        })
        .optional(),
      targets: z.array(ConfigNodeSchema).min(1).optional(),
      name: z.string().min(1).optional(),
      weight: z.number().min(0).optional(),
      retry: z
        .looseObject({
          attempts: z.number().int().min(0),
          on_status_codes: statusCodes.optional(),
          use_retry_after_header: z.boolean().optional(),
        })
        .optional(),
      cache: z.looseObject({ mode: z.enum(['simple', 'semantic']), max_age: z.number().positive().optional() }).optional(),
      request_timeout: z.number().int().positive().optional(),
      stream_idle_timeout: z.number().int().positive().optional(),
      deadline: z.number().int().positive().optional(),
      forward_headers: z.array(z.string().min(1)).optional(),
      options: z.never({ error: 'version 1 configs (with "options") are not supported; use "targets" and "strategy"' }).optional(),
    })
    // Run on any object, even one with other problems: a config's every problem is reported at once.
    .superRefine(
      (node, ctx) => {
        const issue = (message: string, path?: string[]) => ctx.addIssue({ code: 'custom', message, path });
        if (node.provider === undefined && node.targets === undefined) issue('a config node needs "provider" (a leaf) or "targets"');
        if (node.provider !== undefined && node.targets !== undefined) issue('a config node has either "provider" or "targets", not both');
        if (node.targets !== undefined && node.strategy === undefined) issue('a node with "targets" needs a "strategy"', ['strategy']);
      },
      { when: (p) => typeof p.value === 'object' && p.value !== null && !Array.isArray(p.value) },
    ),
);

const pluginEntry = z.union([
  z.string().min(1),
  z.strictObject({
    module: z.string().min(1),
    options: z.unknown().optional(),
    enabled: z.boolean().optional(),
  }),
]);

const bodyLimit = z.union([
  z.number().int().positive(),
  z.string().regex(/^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i, 'a size such as 10mb, 512kb or a number of bytes'),
]);

/** A size in bytes (`32mb`, `512kb` or a number), parsed. */
const bytes = bodyLimit.transform((v) => parseSize(v));

const providerDefaults = z.looseObject({
  api_key: z.string().min(1).optional(),
  base_url: z.string().min(1).optional(),
});

export const FileConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  /** A label for this config, reported by /health; defaults to a hash of the file. */
  version: z.string().min(1).optional(),
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8787),
      bodyLimit: bodyLimit.default('10mb'),
      shutdownTimeoutMs: z.number().int().min(0).default(10_000),
      pluginSetupTimeoutMs: z.number().int().positive().default(5_000),
      /** Time a client has to send its request headers, and its whole request (headers and body): Node's `headersTimeout`, `requestTimeout`. */
      headersTimeoutMs: z.number().int().positive().default(30_000),
      requestTimeoutMs: z.number().int().positive().default(60_000),
      keepAliveTimeoutMs: z.number().int().positive().default(65_000),
      /** Deepest nesting of arrays and objects accepted in a request body or a JSON header. */
      maxJsonDepth: z.number().int().min(1).max(1000).default(64),
      /** Serve on a non-loopback address with provider keys in this file and no gateway authentication (refused otherwise). */
      allowUnauthenticated: z.boolean().default(false),
    })
    .refine((s) => s.headersTimeoutMs <= s.requestTimeoutMs, { path: ['headersTimeoutMs'], message: 'must not be larger than server.requestTimeoutMs' })
    .prefault({}),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  upstream: z
    .strictObject({
      /** Sized for streaming: each open stream holds a connection. */
      connectionsPerOrigin: z.number().int().positive().default(4096),
      keepAliveTimeoutMs: z.number().int().positive().default(30_000),
      connectTimeoutMs: z.number().int().positive().default(10_000),
      /** Default bound on time to response headers when a request sets no request_timeout. */
      headersTimeoutMs: z.number().int().positive().default(120_000),
      /** Longest silence allowed between two chunks of a body, when a request sets no stream_idle_timeout. */
      bodyTimeoutMs: z.number().int().positive().default(60_000),
      /** The largest JSON answer, SSE event and whole stream read from an upstream; more aborts the upstream (502). */
      maxResponseBytes: bytes.default(32 * 1024 ** 2),
      maxEventBytes: bytes.default(4 * 1024 ** 2),
      maxStreamBytes: bytes.default(256 * 1024 ** 2),
    })
    .prefault({}),
  /** Where requests a caller steers may go (custom hosts, webhooks, JWKS...): see egress.ts. */
  egress: z.strictObject({ private: z.enum(['allow', 'deny']).optional(), allow: z.array(allowEntry).default([]) }).prefault({}),
  /** Load the bundled providers and default plugins (the embedded list) before `plugins`. */
  defaultPlugins: z.boolean().default(true),
  plugins: z.array(pluginEntry).default([]),
  /** Gateway-held credentials and base URLs per provider slug; `api_key` may be "env:NAME". */
  providers: z.record(z.string(), providerDefaults).default({}),
  /** The routing config used when a request carries none. */
  routing: ConfigNodeSchema.optional(),
});

export type FileConfig = z.output<typeof FileConfigSchema>;
export type FileConfigInput = z.input<typeof FileConfigSchema>;
export type PluginEntry = z.output<typeof pluginEntry>;

/** The loaded config with where it came from. */
export interface LoadedConfig {
  config: FileConfig;
  /** Directory plugin paths are resolved against. */
  baseDir: string;
  /** The file it was read from, if any. */
  file?: string;
  /** `config.version`, or a short hash of the config's content. */
  version: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Formats zod issues as `prefix.path: message` lines. */
export function formatIssues(error: z.ZodError, prefix: string): string {
  return error.issues.map((issue) => `${joinPath(prefix, issue.path)}: ${issue.message}`).join('; ');
}

export function joinPath(prefix: string, parts: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of parts) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

/** Parses a size such as `10mb` into bytes. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!m) throw new ConfigError(`not a size: ${value}`);
  return Math.floor(Number(m[1]) * 1024 ** ['b', 'kb', 'mb', 'gb'].indexOf((m[2] ?? 'b').toLowerCase()));
}

/**
 * Validates a parsed config object. `env:NAME` references in `providers.*.api_key` and in the
 * routing config's `api_key` fields are replaced by the environment variable's value; a missing
 * variable is an error naming the path. Only the file config gets this: a request's config never
 * reads the gateway's environment.
 */
export function parseFileConfig(input: unknown, source: string, env: NodeJS.ProcessEnv = process.env): FileConfig {
  const parsed = FileConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`Invalid config ${source}: ${formatIssues(parsed.error, '')}`);
  const config = parsed.data;
  const missing: string[] = [];
  const resolve = (value: string | undefined, where: string): string | undefined => {
    if (value === undefined || !value.startsWith('env:')) return value;
    const name = value.slice(4);
    const v = env[name];
    if (v === undefined || v === '') missing.push(`${where} names environment variable ${name}, which is not set`);
    return v;
  };
  for (const [slug, p] of Object.entries(config.providers)) p.api_key = resolve(p.api_key, `providers.${slug}.api_key`);
  const walk = (node: ConfigNode, where: string): void => {
    node.api_key = resolve(node.api_key, `${where}.api_key`);
    node.targets?.forEach((t, i) => walk(t, `${where}.targets[${i}]`));
  };
  if (config.routing) walk(config.routing, 'routing');
  if (missing.length) throw new ConfigError(`Invalid config ${source}: ${missing.join('; ')}`);
  return config;
}

/** Reads and validates a config file. */
export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  const text = await readFile(abs, 'utf8').catch((err: Error) => {
    throw new ConfigError(`Cannot read config file ${abs}: ${err.message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${abs} is not valid JSON: ${(err as Error).message}`);
  }
  const config = parseFileConfig(json, abs, env);
  return { config, baseDir: path.dirname(abs), file: abs, version: config.version ?? hashVersion(text) };
}

/** Builds a LoadedConfig from an object (the embedded default, or a test's inline config). */
export function configFromObject(input: unknown, baseDir: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const config = parseFileConfig(input, '(inline)', env);
  return { config, baseDir, version: config.version ?? hashVersion(JSON.stringify(input)) };
}

const hashVersion = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12);
