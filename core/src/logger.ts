import pino from 'pino';
import type { Logger, DestinationStream } from 'pino';

/** Paths pino censors wherever they appear in a log object: keys and credentials never reach a line. */
export const REDACT_PATHS = [
  'authorization',
  'api_key',
  'apiKey',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-portkey-api-key"]',
  'headers["x-waygate-api-key"]',
  'headers["x-portkey-config"]',
  'headers["x-waygate-config"]',
  '*.authorization',
  '*.api_key',
  '*.apiKey',
  'config.api_key',
  'target.apiKey',
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

/** Removes a known secret from free text (an upstream message that echoes a key, say). */
export function scrub(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 6 || text.indexOf(secret) === -1) return text;
  return text.split(secret).join('[REDACTED]');
}
