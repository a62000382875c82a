import { isIP } from 'node:net';
import { ErrorCode, GatewayError } from './errors.js';

/** Host names of cloud instance-metadata services: a gateway must never be turned into a way to reach them. */
const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'metadata.azure.com',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * Validates a custom host (a base URL supplied by a request or config) and returns it normalized,
 * without a trailing slash. Only http(s); no credentials in the URL; cloud metadata addresses
 * (169.254.0.0/16 link-local, fd00:ec2::254, 100.100.100.200, metadata host names) are refused.
 * Loopback and private addresses are allowed: self-hosted models (ollama, vLLM) live there.
 */
export function checkCustomHost(raw: string, where: string): string {
  // Clients send the same few hosts over and over: remember the verdicts (bounded) so the URL parse
  // and address checks run once per distinct host, not per request.
  const known = verdicts.get(raw);
  if (known !== undefined) {
    if (known.ok) return known.value;
    throw new GatewayError(ErrorCode.FORBIDDEN_HOST, 400, `${where}: ${known.value}`, { param: where });
  }
  try {
    const value = validate(raw, where);
    remember(raw, { ok: true, value });
    return value;
  } catch (err) {
    if (err instanceof GatewayError) remember(raw, { ok: false, value: err.message.slice(where.length + 2) });
    throw err;
  }
}

const MAX_VERDICTS = 1024;
const verdicts = new Map<string, { ok: boolean; value: string }>();
function remember(raw: string, verdict: { ok: boolean; value: string }): void {
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(raw, verdict);
}

function validate(raw: string, where: string): string {
  const refuse = (why: string) =>
    new GatewayError(ErrorCode.FORBIDDEN_HOST, 400, `${where}: custom host ${JSON.stringify(raw)} is not allowed: ${why}`, {
      param: where,
    });
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw refuse('not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(`scheme ${url.protocol} (only http and https)`);
  if (url.username || url.password) throw refuse('credentials in the URL');
  if (url.search || url.hash) throw refuse('a query or fragment');
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (METADATA_HOSTS.has(host)) throw refuse('a cloud metadata service');
  if (isMetadataAddress(host)) throw refuse('a link-local or cloud metadata address');
  return url.href.replace(/\/+$/, '');
}

function isMetadataAddress(host: string): boolean {
  const kind = isIP(host);
  if (kind === 4) return isMetadataV4(host);
  if (kind === 6) {
    if (/^fe[89ab][0-9a-f]:/.test(host)) return true; // fe80::/10 link-local
    if (host === 'fd00:ec2::254') return true; // AWS IMDS over IPv6
    const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(host);
    if (mapped) {
      const v4 = mapped[1] ?? hexPairToV4(mapped[2]!, mapped[3]!);
      return isMetadataV4(v4);
    }
  }
  return false;
}

function isMetadataV4(host: string): boolean {
  return host.startsWith('169.254.') || host === '100.100.100.200' || host === '0.0.0.0';
}

function hexPairToV4(hi: string, lo: string): string {
  const a = parseInt(hi, 16);
  const b = parseInt(lo, 16);
  return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}
