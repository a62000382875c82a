import { createHash, createPrivateKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ErrorCode, GatewayError } from '@waygate/core';

/**
 * OCI's request signature (version 1): draft-cavage-http-signatures-08 with rsa-sha256. The signing
 * string is one `name: value` line per signed header, in the order the `headers` parameter lists
 * them; `(request-target)` is the lower-case method and the path with its query. Every request signs
 * `date (request-target) host`; a POST, PUT or PATCH also signs `content-length content-type
 * x-content-sha256` (the base64 SHA-256 of the body). The keyId is `tenancy/user/fingerprint`.
 *
 * The private key is only ever handed to node:crypto: it is never logged, never put in an error, and
 * parsed keys are cached under a digest of the key text, not the text itself.
 */

export interface OciCredentials {
  tenancy: string;
  user: string;
  fingerprint: string;
  /** The API signing key, PEM (PKCS#1 or PKCS#8, encrypted or not). */
  privateKey: string;
  passphrase?: string;
}

export interface SignInput {
  method: string;
  url: string;
  /** Headers to send; `content-type` is signed for a body (default `application/json`). */
  headers: Record<string, string>;
  body?: string;
  credentials: OciCredentials;
  /** The request time (epoch ms): the `date` header. */
  date: number;
}

/** The headers every request signs, and those a request with a body adds, in OCI's documented order. */
export const SIGNED_HEADERS = ['date', '(request-target)', 'host'] as const;
export const BODY_SIGNED_HEADERS = ['content-length', 'content-type', 'x-content-sha256'] as const;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

const KEY_CACHE_MAX = 64;
const keys = new Map<string, KeyObject>();

/** The parsed private key (cached by a digest of key and passphrase); a 400 naming the option when it cannot be read. */
export function privateKeyOf(pem: string, passphrase?: string): KeyObject {
  const text = normalizePem(pem);
  const id = createHash('sha256')
    .update(text)
    .update('\0')
    .update(passphrase ?? '')
    .digest('base64');
  const hit = keys.get(id);
  if (hit) return hit;
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase ? { key: text, format: 'pem', passphrase } : { key: text, format: 'pem' });
  } catch {
    // The cause is dropped on purpose: node's message may quote part of the key.
    throw new GatewayError(
      ErrorCode.INVALID_CONFIG,
      400,
      'oracle_private_key could not be read as a PEM private key (check the key, and oracle_key_passphrase for an encrypted one)',
      { param: 'oracle_private_key' },
    );
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new GatewayError(ErrorCode.INVALID_CONFIG, 400, 'oracle_private_key must be an RSA key (OCI signs with rsa-sha256)', {
      param: 'oracle_private_key',
    });
  if (keys.size >= KEY_CACHE_MAX) keys.delete(keys.keys().next().value!);
  keys.set(id, key);
  return key;
}

/** A PEM given in one line (a header, an environment variable) with `\n` escapes gets its line breaks back. */
export function normalizePem(pem: string): string {
  const t = pem.trim();
  return t.includes('\n') ? t : t.replace(/\\n/g, '\n');
}

/** The base64 SHA-256 of a body: the `x-content-sha256` header. */
export function contentSha256(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('base64');
}

/** The keyId of an API signing key: `tenancy/user/fingerprint`. */
export function keyIdOf(c: Pick<OciCredentials, 'tenancy' | 'user' | 'fingerprint'>): string {
  return `${c.tenancy}/${c.user}/${c.fingerprint}`;
}

/** The signing string: each signed header as `name: value` on its own line, in order. */
export function signingString(names: readonly string[], values: Record<string, string>): string {
  return names.map((n) => `${n}: ${values[n]}`).join('\n');
}

/**
 * Signs a request: returns the headers to send, the input's plus `date`, `authorization` and, for a
 * body, `content-type`, `content-length` and `x-content-sha256`. `host` is signed as the URL gives it
 * and not returned (the HTTP client sends the same value).
 */
export function signRequest(input: SignInput): Record<string, string> {
  const url = new URL(input.url);
  const method = input.method.toUpperCase();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) out[k.toLowerCase()] = v;
  delete out.authorization;
  delete out.host;
  out.date = new Date(input.date).toUTCString();
  const values: Record<string, string> = {
    date: out.date,
    '(request-target)': `${method.toLowerCase()} ${url.pathname}${url.search}`,
    host: url.host,
  };
  const names: string[] = [...SIGNED_HEADERS];
  if (BODY_METHODS.has(method)) {
    const body = input.body ?? '';
    out['content-type'] ??= 'application/json';
    out['content-length'] = String(Buffer.byteLength(body, 'utf8'));
    out['x-content-sha256'] = contentSha256(body);
    for (const n of BODY_SIGNED_HEADERS) values[n] = out[n]!;
    names.push(...BODY_SIGNED_HEADERS);
  }
  const key = privateKeyOf(input.credentials.privateKey, input.credentials.passphrase);
  const signature = sign('sha256', Buffer.from(signingString(names, values), 'utf8'), key).toString('base64');
  out.authorization =
    `Signature version="1",keyId="${keyIdOf(input.credentials)}",algorithm="rsa-sha256",` + `headers="${names.join(' ')}",signature="${signature}"`;
  return out;
}
