import { z } from 'zod';
import type { LogQuery, LogStore } from './log-store.js';
import type { LogEntry } from './record.js';

/** A client error for @waygate/auth's admin handler (an Error with a 4xx `status`, a `code` and the `param`). */
class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const iso = z.iso.datetime({ offset: true }).or(z.iso.date());

/** `status`: one code (`429`), a class (`5xx`) or a range (`400-499`). */
const status = z
  .string()
  .regex(/^(\d{3}|[1-5]xx|\d{3}-\d{3})$/, 'a status (429), a class (5xx) or a range (400-499)')
  .transform((s) => {
    if (/^\dxx$/.test(s)) return { min: Number(s[0]) * 100, max: Number(s[0]) * 100 + 99 };
    const [a, b = a] = s.split('-').map(Number) as [number, number?];
    return { min: a, max: b };
  });

const QuerySchema = z.strictObject({
  from: iso.optional(),
  to: iso.optional(),
  key: z.string().min(1).max(200).optional(),
  team: z.string().min(1).max(200).optional(),
  provider: z.string().min(1).max(200).optional(),
  model: z.string().min(1).max(500).optional(),
  endpoint: z.string().min(1).max(200).optional(),
  status: status.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(500).optional(),
});

const encodeCursor = (e: LogEntry) => Buffer.from(JSON.stringify([e.at, e.id])).toString('base64url');

function decodeCursor(c: string): { at: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0])))
      return { at: v[0], id: v[1] };
  } catch {
    // Falls through to the 400.
  }
  throw new AdminError(400, 'invalid_request', 'Invalid query: cursor: not a cursor this API gave', 'cursor');
}

/**
 * GET /admin/logs (filters from, to, key, team, provider, model, status, endpoint; `limit`, and the
 * `cursor` of the page before: `next_cursor`, null on the last page) and GET /admin/logs/:id.
 * `flush()` is awaited first, so that what this replica answered is in the store.
 */
export function logsRoute(store: LogStore, flush: () => Promise<void>) {
  return async ({ method, segments, url }: { method: string; segments: readonly string[]; url: URL }): Promise<[number, unknown]> => {
    if (method !== 'GET') throw new AdminError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`);
    if (segments.length > 1 || segments[0] === '') throw new AdminError(404, 'not_found', `No route for GET ${url.pathname}`);
    await flush();
    if (segments.length === 1) {
      const e = await store.get(segments[0]!);
      if (!e) throw new AdminError(404, 'not_found', `No request ${JSON.stringify(segments[0])} in the log`);
      return [200, e];
    }
    const r = QuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!r.success) {
      const first = r.error.issues[0]!;
      const param = first.code === 'unrecognized_keys' ? first.keys[0]! : first.path.join('.');
      throw new AdminError(
        400,
        'invalid_request',
        `Invalid query: ${param}: ${first.code === 'unrecognized_keys' ? 'unknown parameter' : first.message}`,
        param,
      );
    }
    const q = r.data;
    const from = q.from ? new Date(q.from).toISOString() : undefined;
    const to = q.to ? new Date(q.to).toISOString() : undefined;
    if (from && to && from >= to) throw new AdminError(400, 'invalid_request', 'Invalid query: from must be before to', 'from');
    const query: LogQuery = { ...q, from, to, limit: q.limit + 1, after: q.cursor ? decodeCursor(q.cursor) : undefined };
    const rows = await store.list(query);
    const more = rows.length > q.limit;
    const data = more ? rows.slice(0, q.limit) : rows;
    return [200, { object: 'list', data, next_cursor: more ? encodeCursor(data[data.length - 1]!) : null }];
  };
}
