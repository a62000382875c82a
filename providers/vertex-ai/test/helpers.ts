// Test support: BuildInputs without a gateway, a throwaway service account (a key pair generated for
// the test run; no real key is ever stored), and a loopback OAuth token endpoint that counts exchanges.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import type { BuildInput } from '@waygate/core';

export function makeInput(
  body: Record<string, unknown> | undefined,
  opts: { apiKey?: string; baseURL?: string; node?: Record<string, unknown>; headers?: Record<string, string>; path?: string } = {},
): BuildInput {
  return {
    ctx: { headers: opts.headers ?? {} },
    target: {
      provider: 'vertex-ai',
      apiKey: opts.apiKey,
      baseURL: opts.baseURL ?? 'https://{vertex_region}-aiplatform.googleapis.com/v1',
      node: { provider: 'vertex-ai', ...opts.node },
      path: opts.path ?? 'config',
    },
    body,
  } as unknown as BuildInput;
}

export interface TestKeys {
  privateKeyPem: string;
  publicKeyPem: string;
}

let cached: TestKeys | undefined;
/** An RSA key pair made once per test process. */
export function testKeys(): TestKeys {
  cached ??= (() => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    return { privateKeyPem: privateKey, publicKeyPem: publicKey };
  })();
  return cached;
}

/** A service account key file as Google issues it, pointing at the given token endpoint. */
export function serviceAccountJson(tokenUri: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'service_account',
    project_id: 'sa-project',
    private_key_id: 'kid-0123456789abcdef',
    private_key: testKeys().privateKeyPem,
    client_email: 'gateway@sa-project.iam.gserviceaccount.com',
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
    ...extra,
  };
}

export interface TokenReply {
  status?: number;
  body?: unknown;
  delayMs?: number;
}

export interface TokenServer {
  url: string;
  /** Exchanges received so far. */
  readonly count: number;
  /** The form bodies received, parsed. */
  readonly forms: URLSearchParams[];
  /** Content types received. */
  readonly contentTypes: string[];
  reply: (n: number, form: URLSearchParams) => TokenReply;
  close(): Promise<void>;
}

/** A loopback OAuth token endpoint. By default it answers `ya29.token-<n>` valid for an hour. */
export async function startTokenServer(reply?: (n: number, form: URLSearchParams) => TokenReply): Promise<TokenServer> {
  const forms: URLSearchParams[] = [];
  const contentTypes: string[] = [];
  const state: TokenServer = {
    url: '',
    get count() {
      return forms.length;
    },
    forms,
    contentTypes,
    reply: reply ?? ((n) => ({ body: { access_token: `ya29.token-${n}`, expires_in: 3599, token_type: 'Bearer' } })),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      forms.push(form);
      contentTypes.push(String(req.headers['content-type']));
      const r = state.reply(forms.length, form);
      setTimeout(() => {
        res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
        res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {}));
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return state;
}

/** Decodes a JWT's three parts (header and claims as JSON; the signature's bytes). */
export function decodeJwt(jwt: string): { header: any; claims: any; signingInput: string; signature: Buffer } {
  const [h, c, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(c!, 'base64url').toString('utf8')),
    signingInput: `${h}.${c}`,
    signature: Buffer.from(s!, 'base64url'),
  };
}
