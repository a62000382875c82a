import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ConfigNode } from '@waygate/core';
import type { AuthStore } from './store.js';
import { SPEND_GROUPS } from './store.js';
import { periodStart } from './spend.js';
import type { Invalidation } from './fanout.js';
import type { Budget, KeyRecord, TeamRecord } from './records.js';
import { KeyCreateSchema, KeyPatchSchema, TeamCreateSchema, TeamPatchSchema, describeIssues, policyOf, publicKey } from './records.js';
import { newId, newKey, sameHash, sha256 } from './keys.js';

/**
 * The admin API under /admin, authorized by the admin key (`Authorization: Bearer <admin key>` or
 * `x-waygate-admin-key`, compared as SHA-256 digests in constant time):
 *
 *   POST /admin/keys            create: 201 with `id` and `key` (the key's text, shown this once)
 *   GET  /admin/keys            list (`?team=<id>`, `?include_revoked=true`)
 *   GET  /admin/keys/:id        one
 *   PATCH /admin/keys/:id       change fields (not a revoked key's)
 *   DELETE /admin/keys/:id      revoke: refused at once on every replica
 *   the same for /admin/teams (DELETE refuses a team that still has active keys)
 *   GET  /admin/spend           spend summed by key, team, model and/or provider over a time range
 *
 * Bodies are validated with zod; bad input is a 400 that names the field. Errors are OpenAI-shaped.
 */

export interface AdminDeps {
  store: AuthStore;
  /** SHA-256 of the admin key, hex. */
  adminHash: string;
  /** Drops the change from this replica's cache and tells the others. */
  changed(m: Invalidation): Promise<void>;
  /** Why a routing config cannot be used here (an unknown provider), naming the path; undefined when it can. */
  configProblem(node: ConfigNode, path: string): string | undefined;
  audit(fields: object, msg: string): void;
  /** Resolves once the spend this replica recorded is in the store. */
  spendWritten?: () => Promise<void>;
  /** Loads the gateway's config again and swaps it in (`POST /admin/reload`); rejects with the reasons, the old config serving. */
  reload?: () => Promise<string>;
  /** Other plugins' collections under /admin (`logs` for /admin/logs), served behind the same admin key. */
  extensions?: (collection: string) => AdminExtension | undefined;
  now?: () => Date;
}

/**
 * A collection another plugin serves under /admin (registered in the `admin-routes` registry by its
 * name, e.g. `logs` for /admin/logs and below), reached only with the admin key. It gets the method,
 * the path segments after the collection and the URL, and resolves with the status and JSON body; a
 * client error is thrown as an Error with `status` (4xx), `code` and optionally `param`.
 */
export type AdminExtension = (req: { method: string; segments: readonly string[]; url: URL }) => Promise<[number, unknown]>;

const MAX_BODY = 1024 * 1024;

const iso = z.iso.datetime({ offset: true }).or(z.iso.date());
/** GET /admin/spend's query: a time range (default: this month so far), filters, and what to group by. */
const SpendQuerySchema = z.strictObject({
  from: iso.optional(),
  to: iso.optional(),
  group_by: z
    .string()
    .transform((s) => s.split(',').map((g) => g.trim()))
    .pipe(z.array(z.enum(SPEND_GROUPS)))
    .optional(),
  key: z.string().min(1).optional(),
  team: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
});
const ID_ATTEMPTS = 5;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

const TYPES: Record<number, string> = { 401: 'authentication_error', 404: 'not_found_error', 405: 'invalid_request_error', 409: 'conflict_error' };

export function adminHandler(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const now = () => (deps.now ? deps.now() : new Date()).toISOString();
  const notFound = (what: string, id: string) => new HttpError(404, 'not_found', `No ${what} ${JSON.stringify(id)}`);

  const parse = <S extends z.ZodType>(schema: S, body: unknown): z.output<S> => {
    const r = schema.safeParse(body);
    if (r.success) return r.data;
    const { param, message } = describeIssues(r.error);
    throw new HttpError(400, 'invalid_request', `Invalid body: ${message}`, param);
  };

  const checkRefs = async (input: { team?: string | null; config?: ConfigNode | null }) => {
    if (input.team && !(await deps.store.getTeam(input.team)))
      throw new HttpError(400, 'invalid_request', `team: no team ${JSON.stringify(input.team)}`, 'team');
    if (input.config) {
      const problem = deps.configProblem(input.config, 'config');
      if (problem) throw new HttpError(400, 'invalid_config', problem, problem.split(':')[0]);
    }
  };

  const normalizeTime = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString() : iso);

  async function keys(method: string, id: string | undefined, url: URL, read: () => Promise<unknown>): Promise<[number, unknown]> {
    if (id === undefined && method === 'POST') {
      const input = parse(KeyCreateSchema, await read());
      await checkRefs(input);
      const at = now();
      for (let i = 0; i < ID_ATTEMPTS; i++) {
        const made = newKey(newId());
        const rec: KeyRecord = {
          id: made.id,
          hash: made.hash,
          name: input.name,
          team: input.team ?? null,
          ...policyOf(input),
          expires_at: normalizeTime(input.expires_at) ?? null,
          created_at: at,
          updated_at: at,
          revoked_at: null,
        };
        if (await deps.store.insertKey(rec)) {
          deps.audit({ admin: 'keys.create', id: rec.id, name: rec.name, team: rec.team }, 'admin');
          return [201, { ...publicKey(rec), key: made.key }];
        }
      }
      throw new Error(`no free key id after ${ID_ATTEMPTS} draws`);
    }
    if (id === undefined && method === 'GET') {
      const team = url.searchParams.get('team') ?? undefined;
      const list = await deps.store.listKeys({ team, includeRevoked: url.searchParams.get('include_revoked') === 'true' });
      return [200, { object: 'list', data: list.map(publicKey) }];
    }
    if (id === undefined) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on /admin/keys`);
    if (method === 'GET') {
      await deps.spendWritten?.();
      const rec = await deps.store.getKey(id);
      if (!rec) throw notFound('key', id);
      return [200, { ...publicKey(rec), spend: await spendOf('key', id, rec.budget) }];
    }
    if (method === 'PATCH') {
      const input = parse(KeyPatchSchema, await read());
      await checkRefs(input);
      const fields = { ...input, expires_at: normalizeTime(input.expires_at) };
      const rec = await deps.store.updateKey(id, fields, now());
      if (!rec) {
        const existing = await deps.store.getKey(id);
        if (!existing) throw notFound('key', id);
        throw new HttpError(409, 'key_revoked', `Key ${id} is revoked: it cannot be changed`);
      }
      await deps.changed({ kind: 'key', id });
      deps.audit({ admin: 'keys.update', id, fields: Object.keys(input) }, 'admin');
      return [200, publicKey(rec)];
    }
    if (method === 'DELETE') {
      const rec = await deps.store.revokeKey(id, now());
      if (!rec) throw notFound('key', id);
      await deps.changed({ kind: 'key', id });
      deps.audit({ admin: 'keys.revoke', id }, 'admin');
      return [200, { id, revoked: true, revoked_at: rec.revoked_at }];
    }
    throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on /admin/keys/${id}`);
  }

  /** What a key or team has spent: in total, and in its budget's period (a month when it has no budget). */
  async function spendOf(scope: 'key' | 'team', id: string, budget: Budget | null) {
    await deps.spendWritten?.();
    const at = deps.now ? deps.now() : new Date();
    const period = budget?.period ?? 'month';
    const since = periodStart(period, at);
    // One after the other: an admin call holds one store connection at a time.
    const total = await deps.store.spentSince(scope, id, periodStart('total', at));
    const inPeriod = await deps.store.spentSince(scope, id, since);
    return { usd_total: total, period, period_start: since, usd_period: inPeriod, budget_usd: budget?.usd ?? null };
  }

  async function reload(method: string): Promise<[number, unknown]> {
    if (method !== 'POST') throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on /admin/reload`);
    if (!deps.reload) throw new HttpError(404, 'not_found', 'This gateway cannot reload its config');
    try {
      const version = await deps.reload();
      deps.audit({ admin: 'config.reload', config_version: version }, 'admin');
      return [200, { reloaded: true, config_version: version }];
    } catch (err) {
      const reason = (err as Error).message;
      deps.audit({ admin: 'config.reload', refused: reason }, 'admin: the new config was refused; the running one keeps serving');
      throw new HttpError(422, 'invalid_config', `The new config was refused (the running one keeps serving): ${reason}`);
    }
  }

  async function spend(method: string, url: URL): Promise<[number, unknown]> {
    if (method !== 'GET') throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on /admin/spend`);
    const r = SpendQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!r.success) {
      const { param, message } = describeIssues(r.error);
      const first = r.error.issues[0];
      // An unknown parameter is named by itself, not by the query as a whole.
      const named = first?.code === 'unrecognized_keys' ? first.keys[0]! : param;
      throw new HttpError(400, 'invalid_request', `Invalid query: ${message}`, named);
    }
    const q = r.data;
    const at = deps.now ? deps.now() : new Date();
    const from = q.from ? new Date(q.from).toISOString() : periodStart('month', at);
    const to = q.to ? new Date(q.to).toISOString() : new Date(at.getTime() + 1).toISOString();
    if (from >= to) throw new HttpError(400, 'invalid_request', 'Invalid query: from must be before to', 'from');
    await deps.spendWritten?.();
    const groupBy = q.group_by ?? [];
    const data = await deps.store.spendReport({ from, to, groupBy, key: q.key, team: q.team, model: q.model, provider: q.provider });
    return [200, { object: 'list', from, to, group_by: groupBy, data }];
  }

  async function teams(method: string, id: string | undefined, read: () => Promise<unknown>): Promise<[number, unknown]> {
    if (id === undefined && method === 'POST') {
      const input = parse(TeamCreateSchema, await read());
      await checkRefs({ config: input.config });
      const at = now();
      const rec: TeamRecord = { id: input.id ?? `team_${newId()}`, name: input.name, ...policyOf(input), created_at: at, updated_at: at };
      if (!(await deps.store.insertTeam(rec))) throw new HttpError(409, 'team_exists', `A team ${JSON.stringify(rec.id)} exists already`, 'id');
      deps.audit({ admin: 'teams.create', id: rec.id, name: rec.name }, 'admin');
      return [201, rec];
    }
    if (id === undefined && method === 'GET') return [200, { object: 'list', data: await deps.store.listTeams() }];
    if (id === undefined) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on /admin/teams`);
    if (method === 'GET') {
      const rec = await deps.store.getTeam(id);
      if (!rec) throw notFound('team', id);
      const active = await deps.store.listKeys({ team: id });
      return [200, { ...rec, keys: active.map((k) => k.id), spend: await spendOf('team', id, rec.budget) }];
    }
    if (method === 'PATCH') {
      const input = parse(TeamPatchSchema, await read());
      await checkRefs({ config: input.config });
      const rec = await deps.store.updateTeam(id, input, now());
      if (!rec) throw notFound('team', id);
      await deps.changed({ kind: 'team', id });
      deps.audit({ admin: 'teams.update', id, fields: Object.keys(input) }, 'admin');
      return [200, rec];
    }
    if (method === 'DELETE') {
      const out = await deps.store.deleteTeam(id);
      if (out === 'missing') throw notFound('team', id);
      if (typeof out === 'number') throw new HttpError(409, 'team_in_use', `Team ${id} still has ${out} active key(s): revoke them first`);
      await deps.changed({ kind: 'team', id });
      deps.audit({ admin: 'teams.delete', id }, 'admin');
      return [200, { id, deleted: true }];
    }
    throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on /admin/teams/${id}`);
  }

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    let status: number;
    let body: unknown;
    try {
      if (!authorized(req, deps.adminHash)) {
        throw new HttpError(401, 'invalid_admin_key', 'The admin API needs the admin key: Authorization: Bearer <admin key> (or x-waygate-admin-key)');
      }
      const [, , collection, id, ...rest] = url.pathname.split('/');
      const extension = collection && !['keys', 'teams', 'spend', 'reload'].includes(collection) ? deps.extensions?.(collection) : undefined;
      const method = req.method ?? 'GET';
      if (extension) {
        const segments = [id, ...rest].filter((s): s is string => s !== undefined).map((s) => decodeURIComponent(s));
        [status, body] = await extension({ method, segments, url });
      } else {
        if (rest.length || id === '') throw new HttpError(404, 'not_found', `No route for ${req.method} ${url.pathname}`);
        const read = () => readJson(req);
        const decoded = id === undefined ? undefined : decodeURIComponent(id);
        if (collection === 'keys') [status, body] = await keys(method, decoded, url, read);
        else if (collection === 'teams') [status, body] = await teams(method, decoded, read);
        else if (collection === 'spend' && decoded === undefined) [status, body] = await spend(method, url);
        else if (collection === 'reload' && decoded === undefined) [status, body] = await reload(method);
        else throw new HttpError(404, 'not_found', `No route for ${req.method} ${url.pathname}`);
      }
    } catch (err) {
      const e =
        err instanceof HttpError
          ? err
          : clientError(err)
            ? new HttpError(err.status, err.code, err.message, err.param ?? null)
            : new HttpError(
                (err as Error).name === 'StoreUnavailable' ? 503 : 500,
                (err as Error).name === 'StoreUnavailable' ? 'store_unavailable' : 'internal_error',
                (err as Error).message,
              );
      if (e.status >= 500) deps.audit({ admin: 'error', err: e.message }, 'admin request failed');
      status = e.status;
      body = {
        error: { message: e.message, type: TYPES[e.status] ?? (e.status >= 500 ? 'server_error' : 'invalid_request_error'), code: e.code, param: e.param },
      };
    }
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  };
}

/** An extension's client error: an Error with a 4xx `status` and a `code`. */
function clientError(err: unknown): err is Error & { status: number; code: string; param?: string } {
  const e = err as { status?: unknown; code?: unknown };
  return err instanceof Error && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.code === 'string';
}

function authorized(req: IncomingMessage, adminHash: string): boolean {
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
  const header = req.headers['x-waygate-admin-key'];
  const presented = typeof header === 'string' ? header : bearer;
  return presented !== undefined && sameHash(sha256(presented), adminHash);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'body_too_large', `The body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new HttpError(400, 'invalid_request', 'The body is empty: send a JSON object');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'The body is not valid JSON');
  }
}
