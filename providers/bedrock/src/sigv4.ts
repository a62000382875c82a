import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4, as a pure function of the request, the credentials and the time.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  /** The full request URL (its path as it will be sent, already percent-encoded). */
  url: string;
  /** Headers to send and sign (names any case). `host` and `x-amz-date` are added. */
  headers: Record<string, string>;
  body?: string | Uint8Array;
  credentials: AwsCredentials;
  region: string;
  service: string;
  /** Signing time (ms since epoch). */
  date: number;
  /**
   * Encode the path a second time in the canonical request (AWS does this for every service but S3).
   * Default: true.
   */
  doubleEncodePath?: boolean;
  /** Add `x-amz-content-sha256` (S3 style). Default: false. */
  contentSha256Header?: boolean;
}

export interface Signed {
  /** The headers to send: the input's plus x-amz-date, x-amz-security-token and authorization (no host: the HTTP client sets it). */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const sha256hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as AWS wants it: everything but unreserved characters is %XX (upper case). */
export function awsUriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20150830T123600Z` */
export function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function canonicalPath(pathname: string, twice: boolean): string {
  if (!pathname || pathname === '/') return '/';
  return pathname
    .split('/')
    .map((seg) => {
      // A path as sent holds already-encoded segments; non-S3 services sign the encoding of that.
      const once = twice ? seg : decodeSafe(seg);
      return awsUriEncode(once);
    })
    .join('/');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function canonicalQuery(search: string): string {
  if (!search || search === '?') return '';
  const pairs = search
    .replace(/^\?/, '')
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [awsUriEncode(decodeSafe(k.replace(/\+/g, ' '))), awsUriEncode(decodeSafe(v.replace(/\+/g, ' ')))] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** The SigV4 signing key: HMAC chain over date, region, service and `aws4_request`. */
export function signingKey(secret: string, dateStamp: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, dateStamp), region), service), 'aws4_request');
}

/** Signs a request with SigV4 and returns the headers to send. */
export function signV4(input: SignInput): Signed {
  const url = new URL(input.url);
  const stamp = amzDate(input.date);
  const day = stamp.slice(0, 8);
  const body = input.body ?? '';
  const payloadHash = sha256hex(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);

  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) {
    if (k.toLowerCase() === 'host' || k.toLowerCase() === 'authorization') continue;
    out[k] = v;
  }
  out['x-amz-date'] = stamp;
  if (input.credentials.sessionToken) out['x-amz-security-token'] = input.credentials.sessionToken;
  if (input.contentSha256Header) out['x-amz-content-sha256'] = payloadHash;

  const toSign = new Map<string, string>();
  toSign.set('host', url.host);
  for (const [k, v] of Object.entries(out)) toSign.set(k.toLowerCase(), String(v).trim().replace(/\s+/g, ' '));
  const names = [...toSign.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((n) => `${n}:${toSign.get(n)}\n`).join('');

  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalPath(url.pathname, input.doubleEncodePath ?? true),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(input.credentials.secretAccessKey, day, input.region, input.service))
    .update(stringToSign, 'utf8')
    .digest('hex');
  out['authorization'] = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers: out, canonicalRequest, stringToSign, signature };
}
