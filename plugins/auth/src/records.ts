import { z } from 'zod';
import { ConfigNodeSchema } from '@waygate/core';
import type { ConfigNode } from '@waygate/core';

/**
 * What keys and teams hold, as the admin API takes them (zod, snake_case) and as the stores keep
 * them. Rate limits and budgets are stored and returned here; enforcing them is a later part's
 * (see the README).
 */

const patterns = z.array(z.string().min(1).max(200)).max(100);
const perMinute = z.number().int().positive();

export const RateLimitSchema = z.strictObject({
  requests_per_minute: perMinute.optional(),
  tokens_per_minute: perMinute.optional(),
  /** Limits per model (a glob pattern), on top of the key's own. */
  per_model: z
    .record(z.string().min(1), z.strictObject({ requests_per_minute: perMinute.optional(), tokens_per_minute: perMinute.optional() }))
    .optional(),
});
export type RateLimit = z.output<typeof RateLimitSchema>;

export const BudgetSchema = z.strictObject({
  usd: z.number().positive(),
  period: z.enum(['day', 'month', 'total']).default('month'),
});
export type Budget = z.output<typeof BudgetSchema>;

const metadata = z.record(z.string(), z.unknown()).refine((m) => JSON.stringify(m).length <= 8192, 'at most 8 KiB of JSON');
const name = z.string().trim().min(1).max(200);
export const TEAM_ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const teamId = z.string().regex(TEAM_ID_RE, 'lower-case letters, digits, "_" and "-", at most 64');

/** What a key and a team share: what they may use, their own routing config, limits, budget, metadata. */
const policy = {
  /** Models the caller may name (glob patterns, `*` any run); absent or null: any. */
  models: patterns.nullable().optional(),
  providers: patterns.nullable().optional(),
  /** Client-facing endpoints (`chat.completions`, `messages`, `embeddings`, ...; globs). */
  endpoints: patterns.nullable().optional(),
  /** The routing config for a request that sends none (a client that can set only a base URL and a key). */
  config: (ConfigNodeSchema as z.ZodType<ConfigNode>).nullable().optional(),
  metadata: metadata.nullable().optional(),
  rate_limit: RateLimitSchema.nullable().optional(),
  budget: BudgetSchema.nullable().optional(),
};

export const KeyCreateSchema = z.strictObject({
  name,
  team: teamId.nullable().optional(),
  ...policy,
  expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
});
export const KeyPatchSchema = KeyCreateSchema.partial();
export type KeyInput = z.output<typeof KeyCreateSchema>;

export const TeamCreateSchema = z.strictObject({ id: teamId.optional(), name, ...policy });
export const TeamPatchSchema = TeamCreateSchema.omit({ id: true }).partial();
export type TeamInput = z.output<typeof TeamCreateSchema>;

/** The fields a key and a team have in common, as stored (null where unset). */
export interface Policy {
  models: string[] | null;
  providers: string[] | null;
  endpoints: string[] | null;
  config: ConfigNode | null;
  metadata: Record<string, unknown> | null;
  rate_limit: RateLimit | null;
  budget: Budget | null;
}

export interface KeyRecord extends Policy {
  id: string;
  /** SHA-256 of the whole key, hex. Never returned by the admin API. */
  hash: string;
  name: string;
  team: string | null;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  /** 1 when made, one more at each change: set by the store. */
  version?: number;
}

export interface TeamRecord extends Policy {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
  version?: number;
}

export const POLICY_FIELDS = ['models', 'providers', 'endpoints', 'config', 'metadata', 'rate_limit', 'budget'] as const;

/** A policy from validated input: every field present, null where not given. */
export function policyOf(input: Partial<Record<(typeof POLICY_FIELDS)[number], unknown>>): Policy {
  const out = {} as Record<string, unknown>;
  for (const f of POLICY_FIELDS) out[f] = input[f] ?? null;
  return out as unknown as Policy;
}

/** A key as the admin API shows it: everything but the hash. */
export function publicKey(rec: KeyRecord): Omit<KeyRecord, 'hash'> {
  const { hash: _hash, ...rest } = rec;
  return rest;
}

/** The first zod issue's path as `a.b[0]`, and every issue as `path: message`. */
export function describeIssues(error: z.ZodError): { param: string; message: string } {
  const path = (p: readonly PropertyKey[]) =>
    p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '') || '(body)';
  return { param: path(error.issues[0]?.path ?? []), message: error.issues.map((i) => `${path(i.path)}: ${i.message}`).join('; ') };
}
