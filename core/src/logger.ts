import pino from 'pino';
import type { Logger, DestinationStream } from 'pino';
import type { RequestContext } from './context.js';

/** Paths pino censors wherever they appear in a log object: keys and credentials never reach a line. */
export const REDACT_PATHS = [
  'authorization',
  'api_key',
  'apiKey',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-portkey-api-key"]',
  'headers["x-waygate-api-key"]',
  'headers["x-portkey-config"]',
  'headers["x-waygate-config"]',
  '*.authorization',
  '*.api_key',
  '*.apiKey',
];

export interface LoggerOptions {
  level: string;
  /** Where lines go; default: stdout, written asynchronously. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: opts.level,
      base: { service: 'waygate' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A URL fit for a log line: its password (a Redis URL's, say) replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return '(invalid URL)';
  }
}

/** Names of headers whose values are credentials. */
const CREDENTIAL_HEADER = /^(?:authorization|proxy-authorization|cookie)$|token|secret|key/i;
/** Characters that end a token in free text: a secret's masked or truncated echo is removed whole. */
const TOKEN_END = /([\s"'`,;<>()[\]{}\\])/;

/**
 * Removes secrets from free text (an upstream message that echoes a key, say): every occurrence of
 * each, and every token holding its first or last 8 characters (an echo the upstream truncated or
 * masked, such as `sk-abc12345...` or `sk-abc12****wxyz5678`).
 */
export function scrub(text: string, secrets: string | undefined | readonly string[]): string {
  const list = (typeof secrets === 'string' ? [secrets] : (secrets ?? [])).filter((s) => s.length >= 6);
  for (const s of list) if (text.includes(s)) text = text.split(s).join('[REDACTED]');
  const probes = list.flatMap((s) => [s.slice(0, 8), s.slice(-8)]);
  const mask = (token: string) => (probes.some((p) => token.includes(p)) ? '[REDACTED]' : token);
  return text.split(TOKEN_END).map(mask).join('');
}

/**
 * The credentials a request's upstream calls carried: the target's key and every credential header's
 * value (a Bearer or Basic scheme dropped). `forCaller`: only those the caller did not send itself,
 * which it may see echoed back.
 */
export function sentSecrets(ctx: RequestContext, forCaller: boolean): string[] {
  const theirs = forCaller ? Object.values(ctx.headers).join('\n') : '';
  const out = [ctx.target?.apiKey ?? ''];
  for (const h of ctx.sentHeaders ?? []) for (const k in h) if (CREDENTIAL_HEADER.test(k)) out.push(h[k]!.replace(/^(?:bearer|basic)\s+/i, ''));
  return out.filter((s) => !theirs.includes(s));
}
