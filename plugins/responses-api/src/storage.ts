import { AfterResponseStage, BeforeRequestStage, ErrorCode, GatewayError, GatewayResponse } from '@waygate/core';
import type { PluginApi, RequestContext, SSEEvent } from '@waygate/core';
import { principalOf } from '@waygate/auth';
import { acquireDatabase, resolveStoreSpec } from '@waygate/store';
import type { ResolvedStore, StoreSpec } from '@waygate/store';
import { isObj, typeOf } from './format.js';
import type { Json } from './format.js';
import { newId } from './response.js';
import { MIGRATIONS, OWNER, ResponseStore } from './store.js';

/**
 * Stored responses for bridged providers: `store` (default true) keeps a response and its input
 * items, `previous_response_id` continues from one, and `GET` / `DELETE /v1/responses/{id}` and
 * `GET /v1/responses/{id}/input_items` read them. Everything is scoped to the caller's gateway key
 * (`anonymous` without auth): a caller never sees another's responses. Native targets (OpenAI,
 * Azure OpenAI) keep their own: requests to them pass through untouched.
 */

const owner = (ctx: RequestContext): string => principalOf(ctx)?.keyId ?? 'anonymous';

/** A content part as a stored item shows it: output_text with its (required) annotations and logprobs, input_image with its detail. */
function storedPart(p: unknown): unknown {
  if (!isObj(p)) return p;
  if (p.type === 'output_text')
    return { ...p, annotations: Array.isArray(p.annotations) ? p.annotations : [], logprobs: Array.isArray(p.logprobs) ? p.logprobs : [] };
  if (p.type === 'input_image') return { ...p, detail: typeof p.detail === 'string' ? p.detail : 'auto' };
  return p;
}

/**
 * Input as items the way input_items lists them (OpenAI's item resources): each with an id and a
 * status, a string as one user message, content as parts (an assistant's as output_text).
 */
export function inputItems(input: unknown): Json[] {
  const items: unknown[] =
    typeof input === 'string' ? [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }] : Array.isArray(input) ? input : [];
  return items.filter(isObj).map((it) => {
    const type = it.type ?? 'message';
    const content =
      type === 'message' && typeof it.content === 'string'
        ? [{ type: it.role === 'assistant' ? 'output_text' : 'input_text', text: it.content }]
        : it.content;
    const prefix = type === 'message' ? 'msg_' : type === 'function_call' ? 'fc_' : 'item_';
    return {
      ...it,
      type,
      ...(content !== undefined ? { content: Array.isArray(content) ? content.map(storedPart) : content } : {}),
      id: typeof it.id === 'string' ? it.id : newId(prefix),
      status: typeof it.status === 'string' ? it.status : 'completed',
    };
  });
}

/**
 * One page of input items (`limit` 1–100, default 20; `order` desc, the default, or asc; `after` an
 * item id), as OpenAI's list object.
 */
export function itemPage(items: Json[], query: string): Json {
  const q = new URLSearchParams(query);
  const limitText = q.get('limit');
  const limit = limitText === null ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new GatewayError(ErrorCode.INVALID_REQUEST, 400, 'limit: an integer from 1 to 100 is required', { param: 'limit' });
  const order = q.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc')
    throw new GatewayError(ErrorCode.INVALID_REQUEST, 400, "order: 'asc' or 'desc' is required", { param: 'order' });
  const all = order === 'desc' ? [...items].reverse() : items;
  const after = q.get('after');
  let from = 0;
  if (after !== null) {
    const at = all.findIndex((it) => it.id === after);
    if (at < 0) throw new GatewayError(ErrorCode.INVALID_REQUEST, 400, `after: no input item with id '${after}'`, { param: 'after' });
    from = at + 1;
  }
  const data = all.slice(from, from + limit);
  // The spec has first_id and last_id as strings; a page with no items has none to give.
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: from + limit < all.length };
}

const notFound = (id: string): GatewayError => new GatewayError(ErrorCode.NOT_FOUND, 404, `Response with id '${id}' not found.`, { param: 'response_id' });

const DAY_MS = 86_400_000;

export function installStorage(api: PluginApi, spec: StoreSpec | undefined, retention: { maxAgeDays: number | null; pruneEveryMs: number }): void {
  let opened: Promise<ResponseStore> | undefined;
  const store = (): Promise<ResponseStore> =>
    (opened ??= (async () => {
      const resolved = spec !== undefined ? resolveStoreSpec(spec) : (api.registry<ResolvedStore>('stores').get('auth') ?? resolveStoreSpec(undefined));
      const lease = await acquireDatabase(resolved);
      await lease.db.migrate(OWNER, MIGRATIONS);
      const kept = new ResponseStore(lease.db, retention.maxAgeDays === null ? undefined : retention.maxAgeDays * DAY_MS);
      // Expired responses are never served (get() checks their age); this deletes them.
      let pruning: Promise<unknown> | undefined;
      const prune = () =>
        (pruning ??= kept
          .prune()
          .catch((err: Error) => api.logger.warn({ err: err.message }, 'responses-api: expired responses could not be deleted; will retry'))
          .finally(() => (pruning = undefined)));
      void prune();
      const timer = setInterval(prune, retention.pruneEveryMs).unref();
      api.onClose(async () => {
        clearInterval(timer);
        await pruning;
        await lease.release();
      });
      return kept;
    })());
  const native = (provider: string | undefined, endpoint = 'responses'): boolean =>
    provider !== undefined && api.providers.get(provider)?.endpoints[endpoint] !== undefined;
  const firstNative = (ctx: RequestContext): boolean => {
    try {
      return native(api.plan(ctx).targets[0]?.provider, ctx.endpoint);
    } catch {
      return false;
    }
  };
  /** The conversation's input items per request, made before the call. */
  const conversation = new WeakMap<RequestContext, { items: Json[]; prev?: string }>();

  // Both taps are undefined at once (no promise made) for the requests of other endpoints.
  api.hooks.beforeRequest.tapPromise(BeforeRequestStage.NORMAL, (ctx) =>
    ctx.endpoint === 'responses' || ctx.endpoint === 'responses.item' ? before(ctx) : undefined,
  );
  const before = async (ctx: RequestContext): Promise<GatewayResponse | undefined> => {
    if (ctx.endpoint === 'responses.item') return firstNative(ctx) ? undefined : answerItem(ctx, await store());
    if (ctx.endpoint !== 'responses' || !ctx.body || firstNative(ctx)) return undefined;
    const prev = ctx.body.previous_response_id;
    let items = inputItems(ctx.body.input);
    const continued = typeof prev === 'string' && prev !== '';
    if (continued) {
      const found = await (await store()).get(owner(ctx), prev);
      if (!found) throw notFound(prev);
      const output = Array.isArray(found.response.output) ? found.response.output : [];
      items = [...found.input, ...output, ...items];
      const body: Json = { ...ctx.body, input: items };
      delete body.previous_response_id;
      ctx.setBody(body);
    }
    conversation.set(ctx, { items, prev: continued ? prev : undefined });
    return undefined;
  };

  api.hooks.afterResponse.tapPromise(AfterResponseStage.NORMAL, (res, ctx) => (conversation.has(ctx) ? after(res, ctx) : undefined));
  const after = async (res: GatewayResponse, ctx: RequestContext): Promise<GatewayResponse> => {
    const turn = conversation.get(ctx);
    if (!turn || ctx.madeBy !== undefined || res.status !== 200 || ctx.body?.store === false || native(ctx.target?.provider)) return res;
    // The bridge saw the conversation without previous_response_id: the answer names it again.
    const save = async (response: unknown): Promise<void> => {
      if (!isObj(response) || typeof response.id !== 'string') return;
      if (turn.prev) response.previous_response_id = turn.prev;
      try {
        await (await store()).save(owner(ctx), { response, input: turn.items });
      } catch (err) {
        api.logger.warn({ err: (err as Error).message }, 'responses-api: a response could not be stored');
      }
    };
    if (!res.stream) await save(res.body);
    else res.stream = saveAtEnd(res.stream, save);
    return res;
  };
}

/** Relays a stream, storing the final response before its completing event goes out. */
async function* saveAtEnd(inner: AsyncIterable<SSEEvent>, save: (r: unknown) => Promise<void>): AsyncIterable<SSEEvent> {
  for await (const ev of inner) {
    const type = typeOf(ev);
    if (type === 'response.completed' || type === 'response.incomplete') {
      let data: Json | undefined;
      try {
        data = JSON.parse(ev.data) as Json;
      } catch {
        // not JSON: nothing to store
      }
      if (data) {
        await save(data.response);
        yield { ...ev, data: JSON.stringify(data) };
        continue;
      }
    }
    yield ev;
  }
}

/** GET / DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items, from the store. */
async function answerItem(ctx: RequestContext, store: ResponseStore): Promise<GatewayResponse> {
  const m = /^\/v1\/responses\/([^/]+)(\/input_items)?$/.exec(ctx.path);
  if (!m) throw new GatewayError(ErrorCode.NOT_FOUND, 404, `No route for ${ctx.method} ${ctx.path}`);
  const id = decodeURIComponent(m[1]!);
  const who = owner(ctx);
  if (ctx.method === 'DELETE' && !m[2]) {
    if (!(await store.delete(who, id))) throw notFound(id);
    return GatewayResponse.json(200, { id, object: 'response.deleted', deleted: true });
  }
  if (ctx.method !== 'GET') throw new GatewayError(ErrorCode.METHOD_NOT_ALLOWED, 405, `${ctx.method} is not allowed on ${ctx.path}`);
  const found = await store.get(who, id);
  if (!found) throw notFound(id);
  if (!m[2]) return GatewayResponse.json(200, found.response);
  return GatewayResponse.json(200, itemPage(found.input, ctx.query));
}
