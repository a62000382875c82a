import type { Database, Row } from '@waygate/store';
import type { PluginApi } from '@waygate/core';
import type { LogEntry } from './record.js';
import { COLUMNS } from './record.js';

type Logger = PluginApi['logger'];

export interface WriterOptions {
  /** Rows per INSERT transaction. */
  batchSize: number;
  /** How long a row waits for others before a batch goes. */
  flushMs: number;
  /** Rows held at most while the store does not take them; beyond, the oldest are dropped (and counted). */
  maxQueued: number;
  /** Wait after a failed write before the next try. */
  retryMs: number;
}

export interface Retention {
  /** Rows older than this are deleted. */
  maxAgeMs?: number;
  /** At most this many rows are kept (the newest). */
  maxRows?: number;
}

/** GET /admin/logs's filters. */
export interface LogQuery {
  from?: string;
  to?: string;
  key?: string;
  team?: string;
  provider?: string;
  model?: string;
  status?: { min: number; max: number };
  endpoint?: string;
  /** The last row of the page before, as (at, id): the next page starts after it. */
  after?: { at: string; id: string };
  limit: number;
}

/**
 * The request log's table: rows written off the request path, in batches (one transaction per
 * `batchSize` rows, a batch at most `flushMs` after its first row), a store that fails or does not
 * answer holding rows in memory (at most `maxQueued`, the oldest dropped beyond) and trying again;
 * a request only ever pushes onto an array. Retention is applied in the background.
 */
export class LogStore {
  #queue: LogEntry[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Rows dropped because the store did not take them in time, since start. */
  dropped = 0;
  /** Rows written since start. */
  written = 0;

  constructor(
    readonly db: Database,
    readonly opts: WriterOptions,
    readonly log: Logger,
  ) {}

  /** Rows waiting for the store (queued or being written). */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }
  #inFlight = 0;

  /** Queues a row: never waits, never throws. */
  push(entry: LogEntry): void {
    if (this.#closed) return;
    this.#queue.push(entry);
    if (this.#queue.length > this.opts.maxQueued) {
      const over = this.#queue.length - this.opts.maxQueued;
      this.#queue.splice(0, over);
      this.dropped += over;
      if (this.dropped === over || this.dropped % 1000 < over)
        this.log.error({ dropped: this.dropped }, 'request log: the store has not taken rows for a while; dropped the oldest');
    }
    if (this.#flushing) return;
    if (this.#queue.length >= this.opts.batchSize) this.#start();
    else this.#timer ??= setTimeout(() => this.#start(), this.opts.flushMs).unref();
  }

  #start(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return (this.#flushing ??= this.#flush());
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, this.opts.batchSize);
        this.#inFlight = batch.length;
        try {
          await this.db.insertRows(
            'request_log',
            COLUMNS,
            batch.map((e) => this.#row(e)),
          );
          this.written += batch.length;
        } catch (err) {
          if (this.db.isDuplicate(err)) {
            // One row already there (a request id seen twice): write the others one by one.
            await this.#oneByOne(batch);
            continue;
          }
          this.log.warn({ err: (err as Error).message, rows: batch.length }, 'request log: could not write rows; will retry');
          this.#queue.unshift(...batch);
          if (this.#queue.length > this.opts.maxQueued) {
            const over = this.#queue.length - this.opts.maxQueued;
            this.#queue.splice(0, over);
            this.dropped += over;
          }
          if (this.#closed) return;
          await new Promise((r) => setTimeout(r, this.opts.retryMs).unref());
        } finally {
          this.#inFlight = 0;
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #oneByOne(batch: readonly LogEntry[]): Promise<void> {
    for (const e of batch) {
      try {
        await this.db.insertRows('request_log', COLUMNS, [this.#row(e)]);
        this.written++;
      } catch (err) {
        if (!this.db.isDuplicate(err)) throw err;
      }
    }
  }

  /** The values of a row in the order of COLUMNS (written out: a map over the names, with a test per column, cost more than the insert's JavaScript). */
  #row(e: LogEntry): unknown[] {
    const db = this.db;
    return [
      e.id,
      db.time(e.at),
      e.key_id,
      e.key_name,
      e.team,
      e.endpoint,
      e.method,
      e.path,
      e.provider,
      e.model,
      e.target_path,
      e.status,
      e.outcome,
      e.stream ? 1 : 0,
      e.input_tokens,
      e.output_tokens,
      e.cached_tokens,
      e.cost_usd,
      e.total_ms,
      e.upstream_ms,
      e.ttft_ms,
      e.retries,
      e.cache,
      e.guardrails,
      e.error,
      db.json(e.detail),
      db.json(e.request_body),
      db.json(e.response_body),
    ];
  }

  /** Writes what is queued now and waits for it (a store that is down: until the next failure). */
  async drain(): Promise<void> {
    if (this.#queue.length && !this.#flushing) void this.#start();
    while (this.#flushing) await this.#flushing;
  }

  /** At shutdown: one last try to write what is queued; what the store does not take is lost (logged). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.drain();
    if (this.#queue.length)
      this.log.error({ rows: this.#queue.length }, 'request log: the store did not take the last rows before shutdown; they are lost');
  }

  /** Deletes what the retention limits leave out; resolves with the rows deleted. */
  async prune(retention: Retention, now = Date.now()): Promise<number> {
    let deleted = 0;
    if (retention.maxAgeMs !== undefined) {
      const before = new Date(now - retention.maxAgeMs).toISOString();
      const rows = await this.db.query('DELETE FROM {t:request_log} WHERE at < ? RETURNING id', [this.db.time(before)]);
      deleted += rows.length;
    }
    if (retention.maxRows !== undefined) {
      // The newest row past the limit: it and every older one go.
      const edge = await this.db.query('SELECT at, id FROM {t:request_log} ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?', [retention.maxRows]);
      if (edge.length) {
        const { at, id } = edge[0]!;
        const rows = await this.db.query('DELETE FROM {t:request_log} WHERE at < ? OR (at = ? AND id <= ?) RETURNING id', [at, at, id]);
        deleted += rows.length;
      }
    }
    return deleted;
  }

  /** A page of rows, newest first. */
  async list(q: LogQuery): Promise<LogEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      where.push(sql);
      params.push(...values);
    };
    if (q.from) add('at >= ?', this.db.time(q.from));
    if (q.to) add('at < ?', this.db.time(q.to));
    if (q.key) add('key_id = ?', q.key);
    if (q.team) add('team = ?', q.team);
    if (q.provider) add('provider = ?', q.provider);
    if (q.model) add('model = ?', q.model);
    if (q.endpoint) add('endpoint = ?', q.endpoint);
    if (q.status) add('status >= ? AND status <= ?', q.status.min, q.status.max);
    if (q.after) {
      const at = this.db.time(q.after.at);
      add('(at < ? OR (at = ? AND id < ?))', at, at, q.after.id);
    }
    const sql = `SELECT * FROM {t:request_log}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    const rows = await this.db.query(sql, [...params, q.limit]);
    return rows.map((r) => this.#entry(r));
  }

  async get(id: string): Promise<LogEntry | undefined> {
    const rows = await this.db.query('SELECT * FROM {t:request_log} WHERE id = ?', [id]);
    return rows.length ? this.#entry(rows[0]!) : undefined;
  }

  #entry(r: Row): LogEntry {
    const db = this.db;
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      id: String(r.id),
      at: db.readTime(r.at)!,
      key_id: (r.key_id as string | null) ?? null,
      key_name: (r.key_name as string | null) ?? null,
      team: (r.team as string | null) ?? null,
      endpoint: String(r.endpoint),
      method: String(r.method),
      path: String(r.path),
      provider: (r.provider as string | null) ?? null,
      model: (r.model as string | null) ?? null,
      target_path: (r.target_path as string | null) ?? null,
      status: Number(r.status),
      outcome: String(r.outcome),
      stream: Number(r.stream) === 1,
      input_tokens: n(r.input_tokens),
      output_tokens: n(r.output_tokens),
      cached_tokens: n(r.cached_tokens),
      cost_usd: n(r.cost_usd),
      total_ms: Number(r.total_ms),
      upstream_ms: Number(r.upstream_ms),
      ttft_ms: n(r.ttft_ms),
      retries: Number(r.retries),
      cache: (r.cache as string | null) ?? null,
      guardrails: (r.guardrails as string | null) ?? null,
      error: (r.error as string | null) ?? null,
      detail: db.readJson(r.detail) as Record<string, unknown> | null,
      request_body: db.readJson(r.request_body),
      response_body: db.readJson(r.response_body),
    };
  }
}
