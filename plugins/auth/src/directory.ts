import type { AuthStore } from './store.js';
import type { Invalidation } from './fanout.js';
import type { Principal } from './principal.js';
import type { Policy } from './records.js';
import { makePrincipal } from './principal.js';
import { keyId, sameHash, sha256 } from './keys.js';

/** A key written in the config file: its hash, never its text. */
export interface StaticKey extends Policy {
  id: string;
  name: string;
  sha256: string;
  team: string | null;
  expires_at: string | null;
}

export interface DirectorySettings {
  /** How long a looked-up key may be served without asking the store again; 0: ask on every request. */
  ttlMs: number;
  /** When the store does not answer: refuse (503), or accept a key looked up within `lastKnownMs`. */
  whenDown: 'refuse' | 'last-known';
  lastKnownMs: number;
  /** Longest wait for the store on a request. */
  timeoutMs: number;
  /** Whether the cache may be trusted now (the invalidation channel is up); absent: always. */
  cacheTrusted?: () => boolean;
}

/** Why a key was refused, or who it is. */
export type Verdict = { principal: Principal } | { refused: 'unknown' | 'revoked' | 'expired'; keyId?: string; at?: string } | { unavailable: Error };

interface Entry {
  principal: Principal;
  hash: string;
  revokedAt: string | null;
  expiresAt: number | undefined;
  team: string | null;
  /** The versions of the key and team records the principal was built from (as `AuthStore.stamp` gives them). */
  stamp: string;
  fetchedAt: number;
  /** The store's `freshness()` when this entry was last known current (undefined: the store cannot tell). */
  mark: string | undefined;
}

const MAX_ENTRIES = 10_000;
const UNKNOWN: Verdict = Object.freeze({ refused: 'unknown' as const });

/**
 * Finds who a presented key belongs to: the config file's static keys (compared in constant time,
 * no I/O), then the store by the key's public id, its hash compared in constant time. Each store
 * lookup is bounded by `timeoutMs`. Entries are kept by id: a principal is rebuilt only when its key
 * or team record changed (so its compiled patterns and config object live on), served without a
 * store round trip only within `ttlMs` while the cache is trusted, or while the store's
 * `freshness()` mark says nothing changed since it was read (SQLite: no other connection wrote, no
 * key or team write of this process: exact, so a revocation is refused at the next request), and
 * dropped by `invalidate`.
 */
export class KeyDirectory {
  readonly #store: AuthStore | undefined;
  readonly #static: Array<{ hash: string; entry: Entry }>;
  readonly #settings: DirectorySettings;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #lookups = 0;

  constructor(store: AuthStore | undefined, staticKeys: readonly StaticKey[], settings: DirectorySettings, now: () => number = Date.now) {
    this.#store = store;
    this.#settings = settings;
    this.#now = now;
    this.#static = staticKeys.map((k) => ({ hash: k.sha256, entry: entryOf({ ...k, revoked_at: null }, undefined, 'static', 0) }));
  }

  /** How many times the store was asked (for tests and measurements). */
  get storeLookups(): number {
    return this.#lookups;
  }

  /**
   * Who `presented` is. Synchronous when no store round trip is needed (a static key, or an entry the
   * TTL or the store's freshness mark says is current: the common case), so a request whose key is
   * known makes no promise here; a promise otherwise.
   */
  verify(presented: string): Verdict | Promise<Verdict> {
    const hash = sha256(presented);
    let hit: Entry | undefined;
    // Every static key is compared, so the time taken does not say which one matched.
    for (const s of this.#static) if (sameHash(hash, s.hash)) hit = s.entry;
    if (hit) return this.#judge(hit);
    const id = keyId(presented);
    if (id === undefined || !this.#store) return UNKNOWN;
    const now = this.#now();
    const held = this.#entries.get(id);
    if (held && this.#withinTtl(held, now)) return this.#match(held, hash);
    // Read before the store is asked: a change made while it answers moves the mark past what the entry keeps.
    const mark = this.#store.freshness();
    if (held && mark !== undefined && held.mark === mark) return this.#match(held, hash);
    return this.#entry(id, held, mark, now).then(
      (found) => this.#match(found, hash),
      (err: unknown) => ({ unavailable: err as Error }),
    );
  }

  #match(found: Entry | undefined, hash: string): Verdict {
    return found && sameHash(hash, found.hash) ? this.#judge(found) : UNKNOWN;
  }

  #judge(hit: Entry): Verdict {
    const keyId_ = hit.principal.keyId;
    if (hit.revokedAt !== null) return { refused: 'revoked', keyId: keyId_, at: hit.revokedAt };
    if (hit.expiresAt !== undefined && this.#now() >= hit.expiresAt)
      return { refused: 'expired', keyId: keyId_, at: hit.principal.expires_at ?? undefined };
    return { principal: hit.principal };
  }

  /** Whether a held entry is within the TTL while the cache is trusted (then not even the freshness mark is read). */
  #withinTtl(held: Entry, now: number): boolean {
    const { ttlMs, cacheTrusted } = this.#settings;
    return ttlMs > 0 && now - held.fetchedAt < ttlMs && (cacheTrusted?.() ?? true);
  }

  /** Drops what a change makes stale (a message from the fan-out, or this replica's own admin write). */
  invalidate(m: Invalidation): void {
    if (m.kind === 'all') this.#entries.clear();
    else if (m.kind === 'key') this.#entries.delete(m.id);
    else for (const [id, e] of this.#entries) if (e.team === m.id) this.#entries.delete(id);
  }

  /** The store's answer for a key whose entry is missing or not known to be current. */
  async #entry(id: string, held: Entry | undefined, mark: string | undefined, now: number): Promise<Entry | undefined> {
    const { timeoutMs, whenDown, lastKnownMs } = this.#settings;
    let found: Awaited<ReturnType<AuthStore['lookup']>>;
    try {
      this.#lookups++;
      // Holding an entry, ask only whether it is current (the versions of the key and its team): a smaller answer.
      const stamp = held ? await bounded(this.#store!.stamp(id), timeoutMs) : undefined;
      if (held && stamp === held.stamp) {
        held.fetchedAt = now;
        held.mark = mark;
        return held;
      }
      found = held && stamp === undefined ? undefined : await bounded(this.#store!.lookup(id), timeoutMs);
    } catch (err) {
      if (whenDown === 'last-known' && held && now - held.fetchedAt < lastKnownMs) return held;
      throw err;
    }
    if (!found) {
      this.#entries.delete(id);
      return undefined;
    }
    const entry = entryOf(found.key, found.team, 'store', now);
    entry.mark = mark;
    if (!held && this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, entry);
    return entry;
  }
}

function entryOf(
  key: {
    id: string;
    name: string;
    team: string | null;
    expires_at: string | null;
    revoked_at: string | null;
    version?: number;
    hash?: string;
    sha256?: string;
  } & Policy,
  team: ({ id: string; name: string; version?: number } & Policy) | undefined,
  source: Principal['source'],
  now: number,
): Entry {
  const teamPart = team ?? (key.team !== null ? { id: key.team, name: key.team, ...NO_POLICY } : undefined);
  return {
    principal: makePrincipal(key, source, teamPart),
    hash: key.hash ?? key.sha256!,
    revokedAt: key.revoked_at,
    expiresAt: key.expires_at ? Date.parse(key.expires_at) : undefined,
    team: key.team,
    stamp: `${key.version ?? ''}|${team?.version ?? ''}`,
    fetchedAt: now,
    mark: undefined,
  };
}

const NO_POLICY: Policy = { models: null, providers: null, endpoints: null, config: null, metadata: null, rate_limit: null, budget: null };

/** A store call bounded in time: past `ms` it rejects (the call itself is left to its own timeouts). */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the key store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
