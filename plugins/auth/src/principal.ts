import { RequestSlot } from '@waygate/core';
import type { ConfigNode, RequestContext } from '@waygate/core';
import type { Budget, Policy, RateLimit } from './records.js';
import { globs } from './keys.js';

/**
 * Who made a request: the key it carried (from the store or the config file), its team, and what
 * they allow. Other plugins read it with `principalOf(ctx)` (rate limits, budgets, spend): the fields
 * are the stored ones, unchanged.
 */
export interface Principal {
  /** The key's public id (`wg-<id>_…`, or a static key's `id`). */
  readonly keyId: string;
  readonly name: string;
  readonly source: 'store' | 'static';
  readonly team?: { readonly id: string; readonly name: string; readonly rate_limit: RateLimit | null; readonly budget: Budget | null };
  /** The team's metadata under the key's (the key's wins): what logs and routing conditions see. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly rate_limit: RateLimit | null;
  readonly budget: Budget | null;
  readonly expires_at: string | null;
  /** The routing config in force when the request sends none: the key's, else its team's. */
  readonly config: ConfigNode | undefined;
  /** Whether the key (and its team) allow a model, a provider, an endpoint. */
  allows(what: 'models' | 'providers' | 'endpoints', value: string): boolean;
  /** Whether any model or provider rule applies (then the route plan is checked). */
  readonly restrictsTargets: boolean;
}

const slot = new RequestSlot<Principal>('@waygate/auth');

/** The authenticated principal of a request, once `@waygate/auth` accepted its key; undefined when auth is off. */
export function principalOf(ctx: RequestContext): Principal | undefined {
  return slot.get(ctx) ?? (ctx.parent ? slot.get(ctx.parent) : undefined);
}

export function setPrincipal(ctx: RequestContext, p: Principal): void {
  slot.set(ctx, p);
}

type Rules = Record<'models' | 'providers' | 'endpoints', Array<(v: string) => boolean>>;

/** Builds a principal once per record version: patterns compiled, metadata merged, the config chosen. */
export function makePrincipal(
  key: { id: string; name: string; expires_at: string | null } & Policy,
  source: Principal['source'],
  team?: { id: string; name: string } & Policy,
): Principal {
  const rules: Rules = { models: [], providers: [], endpoints: [] };
  for (const what of ['models', 'providers', 'endpoints'] as const) {
    for (const p of [key, team]) {
      const test = globs(p?.[what]);
      if (test) rules[what].push(test);
    }
  }
  const metadata = team?.metadata || key.metadata ? { ...team?.metadata, ...key.metadata } : {};
  return Object.freeze({
    keyId: key.id,
    name: key.name,
    source,
    team: team ? Object.freeze({ id: team.id, name: team.name, rate_limit: team.rate_limit, budget: team.budget }) : undefined,
    metadata: Object.freeze(metadata),
    rate_limit: key.rate_limit,
    budget: key.budget,
    expires_at: key.expires_at,
    config: key.config ?? team?.config ?? undefined,
    allows: (what: keyof Rules, value: string) => rules[what].every((test) => test(value)),
    restrictsTargets: rules.models.length > 0 || rules.providers.length > 0,
  });
}
