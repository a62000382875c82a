// A loopback fake of OCI Generative AI inference that checks every request's signature the way OCI
// documents it (draft-cavage-http-signatures-08, rsa-sha256), with the public key of a key pair the
// test made. Written apart from src/signer.ts on purpose: a mistake there is not repeated here.
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyPair {
  privateKey: string;
  publicKey: KeyObject;
}

/** A fresh 2048-bit RSA pair: the private key as PEM (PKCS#8, or PKCS#1; encrypted with a passphrase when given). */
export function makeKeyPair(opts: { pkcs1?: boolean; passphrase?: string } = {}): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: opts.passphrase
      ? { type: opts.pkcs1 ? 'pkcs1' : 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: opts.passphrase }
      : { type: opts.pkcs1 ? 'pkcs1' : 'pkcs8', format: 'pem' },
  });
  return { privateKey, publicKey: createPublicKey(publicKey) };
}

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  /** Why the signature was refused, or undefined when it verified. */
  refused?: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is; an array of strings as SSE pieces, written one by one. */
  body: unknown;
}

/** The parameters of an `Authorization: Signature k="v",…` header. */
export function signatureParams(auth: string | undefined): Record<string, string> | undefined {
  if (!auth?.startsWith('Signature ')) return undefined;
  const out: Record<string, string> = {};
  for (const m of auth.slice('Signature '.length).matchAll(/([a-zA-Z]+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** Checks a request's OCI signature; returns the reason it fails, or undefined. */
export function checkSignature(
  req: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string },
  publicKey: KeyObject,
  keyId: string,
  now = Date.now(),
): string | undefined {
  const p = signatureParams(req.headers.authorization as string | undefined);
  if (!p) return 'no Signature authorization';
  if (p.version !== '1') return `version ${p.version}`;
  if (p.algorithm !== 'rsa-sha256') return `algorithm ${p.algorithm}`;
  if (p.keyId !== keyId) return `keyId ${p.keyId}`;
  const names = (p.headers ?? '').split(' ');
  const need = ['date', '(request-target)', 'host'];
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') need.push('content-length', 'content-type', 'x-content-sha256');
  for (const n of need) if (!names.includes(n)) return `headers lacks ${n}`;
  const lines: string[] = [];
  for (const n of names) {
    if (n === '(request-target)') lines.push(`(request-target): ${req.method.toLowerCase()} ${req.url}`);
    else {
      const v = req.headers[n];
      if (typeof v !== 'string') return `signed header ${n} not sent`;
      lines.push(`${n}: ${v}`);
    }
  }
  const date = Date.parse(String(req.headers.date));
  if (!Number.isFinite(date) || Math.abs(now - date) > 5 * 60_000) return 'date missing or skewed';
  if (need.includes('x-content-sha256')) {
    if (req.headers['x-content-sha256'] !== createHash('sha256').update(req.body, 'utf8').digest('base64'))
      return 'x-content-sha256 does not match the body';
    if (req.headers['content-length'] !== String(Buffer.byteLength(req.body, 'utf8'))) return 'content-length does not match the body';
  }
  const ok = verify('sha256', Buffer.from(lines.join('\n'), 'utf8'), publicKey, Buffer.from(p.signature ?? '', 'base64'));
  return ok ? undefined : 'signature does not verify';
}

export interface FakeOci {
  url: string;
  seen: Received[];
  /** What the next requests are answered with (a function of the request, or one reply for all). */
  reply: Reply | ((r: Received) => Reply);
  split: 'as-recorded' | 'bytewise';
  close(): Promise<void>;
}

/** Starts the fake; a request whose signature fails is answered 401 NotAuthenticated, as OCI does. */
export async function startFakeOci(publicKey: KeyObject, keyId: string): Promise<FakeOci> {
  const fake: FakeOci = {
    url: '',
    seen: [],
    reply: { body: {} },
    split: 'as-recorded',
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const r: Received = { method: req.method!, url: req.url!, headers: req.headers, body, json };
      r.refused = checkSignature(r, publicKey, keyId);
      fake.seen.push(r);
      if (r.refused) {
        res.writeHead(401, { 'content-type': 'application/json', 'opc-request-id': 'fake/401' });
        res.end(
          JSON.stringify({
            code: 'NotAuthenticated',
            message: `The required information to complete authentication was not provided or was incorrect. (${r.refused})`,
          }),
        );
        return;
      }
      const a = typeof fake.reply === 'function' ? fake.reply(r) : fake.reply;
      if (Array.isArray(a.body)) {
        res.writeHead(a.status ?? 200, { 'content-type': 'text/event-stream', ...a.headers });
        const bytes = (a.body as string[]).map((s) => Buffer.from(s, 'utf8'));
        const pieces = fake.split === 'bytewise' ? bytes.flatMap((b) => [...b].map((x) => Buffer.from([x]))) : bytes;
        let i = 0;
        const next = () => {
          if (res.destroyed) return;
          if (i >= pieces.length) return void res.end();
          res.write(pieces[i++], () => setImmediate(next));
        };
        next();
        return;
      }
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', 'opc-request-id': 'fake/ok', ...a.headers });
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
