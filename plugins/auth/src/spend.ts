import type { PluginApi } from '@waygate/core';
import type { AuthStore, SpendRow } from './store.js';
import type { Budget } from './records.js';

type Logger = PluginApi['logger'];

/** Where a budget's period starts (UTC): today's midnight, the month's first day, or the epoch. */
export function periodStart(period: Budget['period'], now: Date): string {
  if (period === 'total') return new Date(0).toISOString();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), period === 'day' ? now.getUTCDate() : 1));
  return d.toISOString();
}

/** What budgets read and spend rows go to. */
export interface SpendLedger {
  /** `urgent`: the row's key or team has a budget (other replicas must see it soon). */
  record(row: SpendRow, urgent?: boolean): void;
  /** USD spent by a key or team since `since`: what the store holds and what is not written yet. */
  spentSince(scope: 'key' | 'team', id: string, since: string): Promise<number>;
  close(): Promise<void>;
}

/** Rows (summed groups) per INSERT. */
const BATCH = 500;
/** Groups held at most while the store does not take them; beyond, the oldest are dropped. */
const MAX_QUEUED = 20_000;
/** How long a row with no budget behind it may wait, so that a busy gateway writes a few batches a second, not one per request. */
const FLUSH_MS = 100;

/** A row that sums requests: `estimated` counts how many of them were estimated. */
type Sum = SpendRow & { requests: number; estimated: number };

/**
 * Adds a row to its group in `into` (per key, team, model, provider, endpoint, minute and whether it
 * is priced): a busy key writes a row per model per flush, not one per request. A group keeps its
 * first row's time, so it falls in the same minute (and budget period) as every request it stands for.
 */
function fold(into: Map<string, Sum>, r: SpendRow): void {
  const k = `${r.key_id}\u0000${r.team}\u0000${r.model}\u0000${r.provider}\u0000${r.endpoint}\u0000${r.at.slice(0, 16)}\u0000${r.cost_usd === null}`;
  const s = into.get(k);
  const n = r.requests ?? 1;
  if (!s) {
    into.set(k, { ...r, requests: n, estimated: Number(r.estimated) });
    return;
  }
  s.requests += n;
  s.estimated += Number(r.estimated);
  s.prompt_tokens += r.prompt_tokens;
  s.completion_tokens += r.completion_tokens;
  s.cached_tokens += r.cached_tokens;
  s.reasoning_tokens += r.reasoning_tokens;
  if (s.cost_usd !== null) s.cost_usd += r.cost_usd ?? 0;
}

/** Rows summed as `fold` sums them. */
export function summed(rows: readonly SpendRow[]): SpendRow[] {
  const out = new Map<string, Sum>();
  for (const r of rows) fold(out, r);
  return [...out.values()];
}

/**
 * Spend rows written to the store off the request path, in batches: a row is summed into its group
 * as it arrives (so a request leaves nothing behind for the garbage collector to carry), and the
 * groups wait up to FLUSH_MS (a group of a key or team with a budget goes at the next turn of the
 * event loop, so other replicas' budget checks see it at once), then go in one INSERT. Rows not yet
 * written still count for budgets on this replica. A failed write is logged and retried with the
 * next batch (at most MAX_QUEUED groups are held; beyond, the oldest are dropped and that is logged).
 */
export class StoreLedger implements SpendLedger {
  #pending = new Map<string, Sum>();
  #writing: Sum[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(
    private readonly store: AuthStore,
    private readonly log: Logger,
  ) {}

  record(row: SpendRow, urgent = false): void {
    fold(this.#pending, row);
    if (this.#pending.size > MAX_QUEUED) {
      let dropped = 0;
      for (const k of this.#pending.keys()) {
        if (this.#pending.size <= MAX_QUEUED) break;
        this.#pending.delete(k);
        dropped++;
      }
      this.log.error({ dropped }, 'spend: the store has not accepted spend rows for a while; dropped the oldest');
    }
    // A write in progress takes every row that arrives before it ends.
    if (this.#flushing) return;
    if (urgent || this.#pending.size >= BATCH) this.#soon ??= setImmediate(() => this.#start());
    else this.#timer ??= setTimeout(() => this.#start(), FLUSH_MS).unref();
  }

  #start(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#soon) clearImmediate(this.#soon);
    this.#timer = this.#soon = undefined;
    return (this.#flushing ??= this.#flush());
  }

  /** Takes up to BATCH groups, oldest first, out of what waits. */
  #take(): Sum[] {
    const out: Sum[] = [];
    for (const [k, sum] of this.#pending) {
      if (out.length === BATCH) break;
      out.push(sum);
      this.#pending.delete(k);
    }
    return out;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.size) {
        this.#writing = this.#take();
        try {
          await this.store.insertSpend(this.#writing);
        } catch (err) {
          this.log.warn({ err: (err as Error).message, rows: this.#writing.length }, 'spend: could not write spend rows; will retry');
          // Back in front of what arrived meanwhile, summed with it.
          const again = new Map<string, Sum>();
          for (const r of this.#writing) fold(again, r);
          for (const r of this.#pending.values()) fold(again, r);
          this.#pending = again;
          this.#writing = [];
          if (this.#closed) return;
          await new Promise((r) => setTimeout(r, 1000).unref());
        }
        this.#writing = [];
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async spentSince(scope: 'key' | 'team', id: string, since: string): Promise<number> {
    let usd = 0;
    for (const rows of [this.#pending.values(), this.#writing]) {
      for (const r of rows) if ((scope === 'key' ? r.key_id : r.team) === id && r.at >= since) usd += r.cost_usd ?? 0;
    }
    return usd + (await this.store.spentSince(scope, id, since));
  }

  /** Writes what is queued now, and waits for it. */
  async drain(): Promise<void> {
    if (this.#pending.size && !this.#flushing) void this.#start();
    while (this.#flushing) await this.#flushing;
  }

  /** Writes what is queued, trying once more at most: a store that is down never holds up shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
    if (this.#pending.size) await this.#start();
    if (this.#pending.size)
      this.log.error({ rows: this.#pending.size }, 'spend: the store did not take the last spend rows before shutdown; they are lost');
  }
}

/** For static keys with no store: spend kept in this process (per key and team, per period), gone at restart. */
export class MemoryLedger implements SpendLedger {
  #rows = new Map<string, Array<{ at: string; usd: number }>>();

  record(row: SpendRow): void {
    for (const k of [`key:${row.key_id}`, row.team ? `team:${row.team}` : undefined]) {
      if (!k || !row.cost_usd) continue;
      let list = this.#rows.get(k);
      if (!list) this.#rows.set(k, (list = []));
      // Kept per hour: enough for day, month and total periods, and bounded.
      const hour = `${row.at.slice(0, 13)}:00:00.000Z`;
      const last = list[list.length - 1];
      if (last && last.at === hour) last.usd += row.cost_usd;
      else list.push({ at: hour, usd: row.cost_usd });
    }
  }

  async spentSince(scope: 'key' | 'team', id: string, since: string): Promise<number> {
    let usd = 0;
    for (const r of this.#rows.get(`${scope}:${id}`) ?? []) if (r.at >= since) usd += r.usd;
    return usd;
  }

  async close(): Promise<void> {}
}
