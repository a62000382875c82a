/**
 * jwt: verifies a JSON Web Token from a request header against the keys of a JWKS endpoint, with
 * node:crypto alone. The key set is fetched once per URI and kept for `cacheMaxAge` seconds; a
 * token signed with a key id the cached set lacks triggers one refresh (at most one per 10 s per
 * URI, so tokens with made-up key ids cannot turn the gateway against the JWKS server).
 */
import { createPublicKey, verify, constants } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { CheckInput, GuardrailCheck } from '@waygate/guardrails';
import { BoundedCache, httpUrl, isPlainObject, parseDuration, readText, safeOrigin, send, timeoutMs } from './common.js';

/** The algorithms verified, each with its key type and hash. HMAC and `none` are never accepted. */
const ALGORITHMS = {
  RS256: { kty: 'RSA', hash: 'sha256', pss: false },
  RS384: { kty: 'RSA', hash: 'sha384', pss: false },
  RS512: { kty: 'RSA', hash: 'sha512', pss: false },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { kty: 'EC', hash: 'sha256', curve: 'prime256v1' },
  ES384: { kty: 'EC', hash: 'sha384', curve: 'secp384r1' },
  ES512: { kty: 'EC', hash: 'sha512', curve: 'secp521r1' },
  EdDSA: { kty: 'OKP', hash: null, curve: 'ed25519' },
} as const satisfies Record<string, { kty: string; hash: string | null; pss?: boolean; curve?: string }>;
type Alg = keyof typeof ALGORITHMS;
const ALG_NAMES = Object.keys(ALGORITHMS) as Alg[];

const MAX_TOKEN_LENGTH = 16 * 1024;
/** A shared fetch of a key set serves many requests: only its time limit ends it, not one client leaving. */
const NO_ABORT = new AbortController().signal;
const MAX_JWKS_BYTES = 1024 * 1024;

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a duration (seconds, or like "1d", "12h", "30m", "45s")`, input: v });
    return z.NEVER;
  }
  return s;
});
const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

export const JwtParams = z.strictObject({
  jwksUri: httpUrl,
  /** The header that carries the token (`Bearer ` is stripped). */
  headerKey: z
    .string()
    .min(1)
    .default('Authorization')
    .transform((h) => h.toLowerCase()),
  /** Seconds the key set is kept. */
  cacheMaxAge: z.number().min(0).default(86400),
  /** Seconds of leeway on exp, nbf and iat. */
  clockTolerance: z.number().min(0).default(5),
  /** The oldest `iat` accepted (seconds or "1d"-style); 0 turns the limit off. */
  maxTokenAge: duration.default(86400),
  /** Waygate extensions: the accepted algorithms, and expected issuer(s) and audience(s). */
  algorithms: z
    .array(z.enum(ALG_NAMES as [Alg, ...Alg[]]))
    .min(1)
    .default(ALG_NAMES),
  issuer: oneOrMany.optional(),
  audience: oneOrMany.optional(),
  /** Time limit for fetching the key set, ms. */
  timeout: timeoutMs,
});
type JwtParams = z.output<typeof JwtParams>;

interface Jwk {
  kid?: string;
  alg?: string;
  use?: string;
  key: KeyObject;
}
interface KeySet {
  keys: Jwk[];
  fetchedAt: number;
  expiresAt: number;
}

export interface JwtCheckOptions {
  /** The clock, in ms (tests move it). Default Date.now. */
  now?: () => number;
  /** Least time between two refreshes of one URI for an unknown key id, ms. Default 10000. */
  minRefreshMs?: number;
}

/** Makes a jwt check with its own key-set cache (one per gateway). */
export function createJwtCheck(opts: JwtCheckOptions = {}): GuardrailCheck<typeof JwtParams> {
  const now = opts.now ?? Date.now;
  const minRefreshMs = opts.minRefreshMs ?? 10_000;
  const sets = new BoundedCache<string, KeySet>(256);
  const inflight = new Map<string, Promise<KeySet>>();

  async function fetchSet(p: JwtParams, egress: CheckInput['egress']): Promise<KeySet> {
    const pending = inflight.get(p.jwksUri);
    if (pending) return pending;
    const job = (async () => {
      const where = safeOrigin(p.jwksUri);
      const res = await send(egress, p.jwksUri, { method: 'GET', headers: { accept: 'application/json' } }, p.timeout, NO_ABORT);
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`the JWKS at ${where} answered ${res.status}`);
      }
      const body = await readText(res, MAX_JWKS_BYTES, `the JWKS at ${where}`, p.timeout);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw new Error(`the JWKS at ${where} is not JSON`);
      }
      if (!isPlainObject(json) || !Array.isArray(json.keys)) throw new Error(`the JWKS at ${where} has no "keys" array`);
      const keys: Jwk[] = [];
      for (const jwk of json.keys) {
        if (!isPlainObject(jwk) || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
        try {
          // Only the public parts are used, whatever else the set holds.
          const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
          keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key });
        } catch {
          // A key node cannot import (an unknown kty, a symmetric key) is skipped.
        }
      }
      const t = now();
      const set = { keys, fetchedAt: t, expiresAt: t + p.cacheMaxAge * 1000 };
      sets.set(p.jwksUri, set);
      return set;
    })();
    inflight.set(p.jwksUri, job);
    try {
      return await job;
    } finally {
      inflight.delete(p.jwksUri);
    }
  }

  async function keySet(p: JwtParams, egress: CheckInput['egress']): Promise<KeySet> {
    const cached = sets.get(p.jwksUri);
    if (cached && cached.expiresAt > now()) return cached;
    return fetchSet(p, egress);
  }

  return {
    id: 'jwt',
    hooks: ['beforeRequest'],
    params: JwtParams,
    async run({ params, headers, egress }) {
      const fail = (explanation: string) => ({ verdict: false, data: { verdict: false, explanation } });
      const raw = headers[params.headerKey];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (!value) return fail(`No ${params.headerKey} header.`);
      const token = value.replace(/^\s*Bearer\s+/i, '').trim();
      if (token.length > MAX_TOKEN_LENGTH) return fail('The token is too long.');
      const parsed = parseToken(token);
      if (typeof parsed === 'string') return fail(parsed);
      const { header, payload } = parsed;
      const alg = header.alg as Alg;
      if (typeof header.alg !== 'string' || !params.algorithms.includes(alg)) return fail(`Algorithm ${JSON.stringify(header.alg)} is not accepted.`);
      const kid = typeof header.kid === 'string' ? header.kid : undefined;

      let set = await keySet(params, egress);
      let key = pickKey(set, kid, alg);
      if (!key && kid !== undefined && now() - set.fetchedAt >= minRefreshMs) {
        // Keys rotate: a key id we have not seen may be in a fresher set.
        set = await fetchSet(params, egress);
        key = pickKey(set, kid, alg);
      }
      if (!key)
        return fail(
          kid === undefined
            ? 'The token has no key id, and the key set has no single key for its algorithm.'
            : `No key with id ${JSON.stringify(kid)} for ${alg}.`,
        );
      if (!verifySignature(alg, key.key, parsed.signingInput, parsed.signature)) return fail('The signature is not valid.');

      const problem = claimProblem(payload, params, now() / 1000);
      if (problem) return fail(problem);
      return { verdict: true, data: { verdict: true, explanation: 'The token is valid.', alg, ...(kid ? { kid } : {}) } };
    },
  };
}

interface ParsedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Splits and decodes a compact JWS; a string says what is wrong. */
function parseToken(token: string): ParsedToken | string {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return 'The header does not carry a JWT.';
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return 'The JWT header or payload is not JSON.';
  }
  if (!isPlainObject(header) || !isPlainObject(payload)) return 'The JWT header or payload is not a JSON object.';
  if (header.crit !== undefined) return 'The JWT has critical header parameters, which are not supported.';
  return { header, payload, signingInput: Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'), signature: Buffer.from(parts[2]!, 'base64url') };
}

/** The key for a token: by key id, else the only key that fits the algorithm; its type must fit. */
function pickKey(set: KeySet, kid: string | undefined, alg: Alg): Jwk | undefined {
  const fits = (k: Jwk) => (k.alg === undefined || k.alg === alg) && keyFits(k.key, alg);
  if (kid !== undefined) return set.keys.find((k) => k.kid === kid && fits(k));
  const candidates = set.keys.filter(fits);
  return candidates.length === 1 ? candidates[0] : undefined;
}

function keyFits(key: KeyObject, alg: Alg): boolean {
  const spec = ALGORITHMS[alg];
  const type = key.asymmetricKeyType;
  // RSA keys shorter than 2048 bits are refused, as RFC 7518 requires.
  if (spec.kty === 'RSA') return (type === 'rsa' || (spec.pss && type === 'rsa-pss')) && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  if (spec.kty === 'EC') return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === spec.curve;
  return type === 'ed25519';
}

function verifySignature(alg: Alg, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const spec = ALGORITHMS[alg];
  try {
    if (spec.kty === 'OKP') return verify(null, data, key, signature);
    if (spec.kty === 'EC') return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(
      spec.hash,
      data,
      spec.pss
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : { key, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
  } catch {
    return false;
  }
}

/** What is wrong with the claims at `nowS` (seconds), or undefined. */
function claimProblem(payload: Record<string, unknown>, p: JwtParams, nowS: number): string | undefined {
  const tol = p.clockTolerance;
  const num = (k: string) => (typeof payload[k] === 'number' ? (payload[k] as number) : undefined);
  for (const k of ['exp', 'nbf', 'iat']) {
    if (payload[k] !== undefined && typeof payload[k] !== 'number') return `The "${k}" claim is not a number.`;
  }
  const exp = num('exp');
  const nbf = num('nbf');
  const iat = num('iat');
  if (exp !== undefined && nowS > exp + tol) return 'The token has expired.';
  if (nbf !== undefined && nowS < nbf - tol) return 'The token is not valid yet (nbf).';
  if (iat !== undefined && iat > nowS + tol) return 'The token was issued in the future (iat).';
  if (p.maxTokenAge > 0) {
    if (iat === undefined) return 'The token has no "iat" claim, which maxTokenAge needs.';
    if (nowS - iat > p.maxTokenAge + tol) return `The token is older than maxTokenAge (${p.maxTokenAge} s).`;
  }
  if (p.issuer && !(typeof payload.iss === 'string' && p.issuer.includes(payload.iss))) return 'The token has another issuer.';
  if (p.audience) {
    const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
    if (!aud.some((a) => typeof a === 'string' && p.audience!.includes(a))) return 'The token is for another audience.';
  }
  return undefined;
}
