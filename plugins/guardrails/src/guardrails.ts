import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { ConfigNode, GatewayResponse, PlannedTarget, PluginApi, PluginRegistry, RequestContext, RequestSlot, SSEEvent } from '@waygate/core';
import { DEFAULT_WORK_LIMIT, RegexMeter } from '@waygate/safe-regex';
import { CHECKS } from './checks.js';
import type { GuardrailCheck } from './checks.js';
import { NO_HOOKS, hasHookKeys, hookLists, parseMixed, parseNodeRaw, resolveHooks } from './config.js';
import type { HookSet, HookSpec, RawHook, ResolveOptions, Side } from './config.js';
import { runHooks, verdictOf } from './runner.js';
import type { HookResult, RunEnv, Snapshot } from './runner.js';
import { hookResultsEvent, isHookResultsEvent, requestView, responseView, streamTextReader } from './views.js';

/** Portkey's message for a denied request or answer (status 446). */
export const HOOKS_FAILED_MESSAGE = 'The guardrail checks defined in the config failed. You can find more information in the `hook_results` object.';
/** Status of a denied request or answer (Portkey's). */
export const DENIED_STATUS = 446;
/** Status of an answer some guardrail failed without denying it (Portkey's). */
export const FAILED_STATUS = 246;
/** The one response header added: `passed`, `failed` or `denied`. */
export const VERDICT_HEADER = 'x-waygate-guardrails';

export interface GuardrailsOptions {
  input: unknown[];
  output: unknown[];
  checkTimeoutMs: number;
  /** Refuse parameters a check does not define (400) instead of ignoring them with a warning. */
  strictParameters?: boolean;
  /** Regex work the guardrails a request sent may cost it (see @waygate/safe-regex); default 10,000,000. */
  regexWorkLimit?: number;
}

/** A request's regex budgets: one for the checks' runs, one for the early looks at a stream (spending it only ends those). */
interface Meters {
  run?: RegexMeter;
  early?: RegexMeter;
}

/** One early check on a stream; `off` once a request's own check threw (its early budget spent). */
interface Early {
  hook: HookSpec;
  spec: HookSpec['checks'][number];
  off: boolean;
}

/** What the input side left for the output side of one request. */
interface RequestState {
  before: HookResult[];
  failed: boolean;
  /** The request as it was sent (after input mutators). */
  request: Snapshot;
}

const EMPTY: readonly HookSpec[] = Object.freeze([]);
/** Request-state marker: beforeRequest found no guardrail for this request on either side. */
const IDLE = Symbol('no guardrails');
const MAX_CACHED_HEADERS = 500;
const HEADER_NAMES: Record<Side, readonly [string, string]> = {
  input: ['x-waygate-default-input-guardrails', 'x-portkey-default-input-guardrails'],
  output: ['x-waygate-default-output-guardrails', 'x-portkey-default-output-guardrails'],
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The guardrails of one gateway: parsed hook sets per config node (made once, when the config is
 * checked), the hooks set in the plugin's options and in default-guardrails headers, and the two taps.
 */
export class Guardrails {
  readonly #api: PluginApi;
  readonly #name: string;
  readonly #state: RequestSlot<RequestState | typeof IDLE>;
  readonly #checks: PluginRegistry<GuardrailCheck>;
  readonly #timeoutMs: number;
  readonly #resolve: ResolveOptions;
  readonly #optionRaw: RawHook[];
  #optionHooks: HookSet | undefined;
  /** Hook sets by config node (the nodes of the config file's routing and of cached config headers). */
  readonly #byNode = new WeakMap<ConfigNode, HookSet>();
  /** Whether any node below a root has guardrails (then the plan's targets must be walked). */
  readonly #nested = new WeakMap<ConfigNode, boolean>();
  readonly #byHeader = new Map<string, readonly HookSpec[]>();
  readonly #paths = new Map<string, number[]>();
  /** The config file's guardrail lists, by identity: their hooks are the operator's. */
  readonly #fileLists: WeakSet<object>;
  readonly #isFileList = (list: unknown): boolean => typeof list === 'object' && list !== null && this.#fileLists.has(list);
  readonly #meters: RequestSlot<Meters>;
  readonly #workLimit: number;
  readonly #runMeter = (ctx: RequestContext): RegexMeter => this.#meter(ctx, 'run');

  constructor(api: PluginApi, options: GuardrailsOptions) {
    this.#api = api;
    this.#name = api.name;
    this.#state = api.requestState();
    this.#checks = api.registry<GuardrailCheck>(CHECKS);
    this.#timeoutMs = options.checkTimeoutMs;
    this.#fileLists = hookLists(api.config.routing);
    this.#meters = api.requestState();
    this.#workLimit = options.regexWorkLimit ?? DEFAULT_WORK_LIMIT;
    this.#resolve = {
      strictParameters: options.strictParameters === true,
      // Once per config (configs are checked once and cached): names and paths only, never values.
      onIgnored: ({ check, where, parameters }) => {
        const not = parameters.includes('not') ? '; its verdict is not inverted by "not"' : '';
        api.logger.warn(
          { check, where, ignored: parameters },
          `guardrail parameters ignored, as Portkey ignores them: ${check} does not define ${parameters.join(', ')}${not} (the option strictParameters refuses them)`,
        );
      },
    };
    // The shapes are checked now; check ids once every plugin has registered its checks.
    this.#optionRaw = [
      ...parseMixed(options.input, 'options.input', 'input', 'gateway_', true),
      ...parseMixed(options.output, 'options.output', 'output', 'gateway_', true),
    ];
  }

  /** A request's regex budget (made on first use); `early` is the separate one for looks at a stream so far. */
  #meter(ctx: RequestContext, which: keyof Meters): RegexMeter {
    let m = this.#meters.get(ctx);
    if (!m) this.#meters.set(ctx, (m = {}));
    return (m[which] ??= new RegexMeter(this.#workLimit));
  }

  /** The hooks from the plugin's options, resolved on first use (at start-up when the kernel seals). */
  optionHooks(): HookSet {
    if (!this.#optionHooks) {
      try {
        this.#optionHooks = resolveHooks(this.#optionRaw, this.#checks, this.#resolve);
      } catch (err) {
        throw new GatewayError(ErrorCode.INVALID_CONFIG, 500, `${this.#name}: invalid guardrails in its options: ${(err as Error).message}`);
      }
    }
    return this.#optionHooks;
  }

  /** The config check: parses and resolves a node's guardrails once, or rejects the config (400 naming the path). */
  checkNode(node: ConfigNode, path: string): void {
    if (!hasHookKeys(node)) return;
    this.#byNode.set(node, resolveHooks(parseNodeRaw(node, path, this.#isFileList), this.#checks, this.#resolve));
  }

  nodeHooks(node: ConfigNode, path: string): HookSet {
    // Most nodes name no guardrails: a few key tests answer that without touching the WeakMap (a
    // node the core builds per request, from x-waygate-provider, would otherwise add an entry each time).
    if (!hasHookKeys(node)) return NO_HOOKS;
    let set = this.#byNode.get(node);
    if (set === undefined) {
      // A node no config check saw (a test's, or the core's from headers): parsed here, once.
      set = resolveHooks(parseNodeRaw(node, path, this.#isFileList), this.#checks, this.#resolve);
      this.#byNode.set(node, set);
    }
    return set;
  }

  #hasNested(root: ConfigNode): boolean {
    if (!root.targets) return false;
    let v = this.#nested.get(root);
    if (v === undefined) {
      const walk = (n: ConfigNode): boolean => !!n.targets?.some((c) => hasHookKeys(c) || walk(c));
      v = walk(root);
      this.#nested.set(root, v);
    }
    return v;
  }

  /** Child indices along a target's path (`config.targets[1].targets[0]` → [1, 0]). */
  #indices(path: string): number[] {
    let out = this.#paths.get(path);
    if (!out) {
      out = [...path.matchAll(/\.targets\[(\d+)\]/g)].map((m) => Number(m[1]));
      if (this.#paths.size >= 1000) this.#paths.clear();
      this.#paths.set(path, out);
    }
    return out;
  }

  /** Adds the hooks of every node below the root on a target's path (the root's are added by the caller). */
  #pathHooks(root: ConfigNode, target: PlannedTarget, side: Side, out: HookSpec[], seen: Set<HookSpec>): void {
    let node: ConfigNode | undefined = root;
    let path = 'config';
    for (const i of this.#indices(target.path)) {
      node = node.targets?.[i];
      if (!node) return;
      path += `.targets[${i}]`;
      for (const h of this.nodeHooks(node, path)[side]) {
        if (!seen.has(h)) {
          seen.add(h);
          out.push(h);
        }
      }
    }
  }

  /** Guardrails from a default-guardrails header (JSON array in the shorthand), parsed once per distinct value. */
  headerHooks(ctx: RequestContext, side: Side): readonly HookSpec[] {
    const [own, portkey] = HEADER_NAMES[side];
    let name = own;
    let raw = ctx.headers[own];
    if (raw === undefined) {
      raw = ctx.headers[portkey];
      name = portkey;
    }
    if (raw === undefined) return EMPTY;
    if (Array.isArray(raw)) raw = raw.join(',');
    const key = `${side}\n${raw}`;
    let hooks = this.#byHeader.get(key);
    if (!hooks) {
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (err) {
        const at = /position (\d+)/.exec((err as Error).message);
        throw badRequest(
          ErrorCode.INVALID_HEADER,
          `${name} is not valid JSON${at ? ` (at position ${at[1]})` : ''}: send a JSON array of guardrails`,
          name,
        );
      }
      if (!Array.isArray(json)) throw badRequest(ErrorCode.INVALID_HEADER, `${name} must be a JSON array of guardrails`, name);
      hooks = resolveHooks(parseMixed(json, name, side, 'default_'), this.#checks, this.#resolve)[side];
      if (this.#byHeader.size >= MAX_CACHED_HEADERS) this.#byHeader.delete(this.#byHeader.keys().next().value!);
      this.#byHeader.set(key, hooks);
    }
    return hooks;
  }

  /**
   * The input hooks of a request: the plugin's options, the default-guardrails header, the root of
   * the routing config, and every node on the path of every target in the plan (so a fallback never
   * skips a later target's input guardrail), without duplicates, in that order.
   */
  async inputHooks(ctx: RequestContext): Promise<readonly HookSpec[]> {
    const opts = this.optionHooks().input;
    const header = this.headerHooks(ctx, 'input');
    const root = ctx.config;
    const own = this.nodeHooks(root, 'config').input;
    const nested = this.#hasNested(root);
    if (!nested) {
      if (header.length === 0 && own.length === 0) return opts;
      if (opts.length === 0 && header.length === 0) return own;
      return [...opts, ...header, ...own];
    }
    const out = [...opts, ...header, ...own];
    const seen = new Set(out);
    const plan = this.#api.plan(ctx);
    for (const t of plan.targets) this.#pathHooks(root, t, 'input', out, seen);
    return out;
  }

  /** Whether no guardrail applies to this request on either side, whatever target answers. */
  #idle(ctx: RequestContext): boolean {
    const opts = this.optionHooks();
    if (opts.input.length || opts.output.length || this.headerHooks(ctx, 'input').length) return false;
    const root = ctx.config;
    if (!root || this.#hasNested(root)) return false;
    const own = this.nodeHooks(root, 'config');
    return own.input.length === 0 && own.output.length === 0;
  }

  /** The output hooks for the target that answered (or, for an answer made before routing, the first planned). */
  outputHooks(ctx: RequestContext): readonly HookSpec[] {
    const opts = this.optionHooks().output;
    const header = this.headerHooks(ctx, 'output');
    const root = ctx.config;
    if (!root) return opts;
    const own = this.nodeHooks(root, 'config').output;
    const target = this.#hasNested(root) ? (ctx.target ?? ctx.plan?.targets[0]) : undefined;
    if (!target && header.length === 0 && own.length === 0) return opts;
    const out = [...opts, ...header, ...own];
    if (target) this.#pathHooks(root, target, 'output', out, new Set(out));
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // beforeRequest

  /** The beforeRequest tap: undefined at once for a request with nothing to check on either side (no promise made for it). */
  beforeRequest(ctx: RequestContext): Promise<GatewayResponse | undefined> | undefined {
    const body = ctx.body;
    if (!body) return undefined;
    // A bad output header is rejected now, before the call, not after it.
    const outHeader = this.headerHooks(ctx, 'output');
    if (outHeader.length === 0 && this.#idle(ctx)) {
      // Nothing on either side for any target: afterResponse need not look again.
      this.#state.set(ctx, IDLE);
      return undefined;
    }
    return this.#checkInput(ctx, body);
  }

  async #checkInput(ctx: RequestContext, body: Record<string, unknown>): Promise<GatewayResponse | undefined> {
    const hooks = await this.inputHooks(ctx);
    if (hooks.length === 0) return undefined;
    const view = requestView(ctx.endpoint);
    const snap: Snapshot = { json: body, text: view ? view.read(body) : '' };
    const env: RunEnv = {
      ctx,
      side: 'input',
      view,
      timeoutMs: this.#timeoutMs,
      logger: this.#api.logger,
      egress: this.#api.egress,
      regexMeter: this.#runMeter,
    };
    const [sync, later] = split(hooks);
    const outcome = sync.length ? await runHooks(sync, snap, env) : { results: [], snap };
    const { failed, denied } = verdictOf(outcome.results);
    this.#state.set(ctx, { before: outcome.results, failed, request: outcome.snap } satisfies RequestState);
    if (later.length) this.#runAsync(later, outcome.snap, env);
    if (outcome.results.length === 0) return undefined;
    if (denied) return this.#deny(ctx, outcome.results, [], 'input');
    if (outcome.snap !== snap && outcome.snap.json) ctx.setBody(outcome.snap.json);
    this.#verdict(ctx, failed ? 'failed' : 'passed', outcome.results);
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // afterResponse

  /** The afterResponse tap: undefined at once (the answer unchanged, no promise made) when the request had nothing to check. */
  afterResponse(res: GatewayResponse, ctx: RequestContext): Promise<GatewayResponse> | undefined {
    const seen = this.#state.get(ctx);
    if (seen === IDLE || res.source === this.#name) return undefined;
    return this.#checkOutput(res, ctx, seen as RequestState | undefined);
  }

  async #checkOutput(res: GatewayResponse, ctx: RequestContext, state: RequestState | undefined): Promise<GatewayResponse> {
    const ok = res.status >= 200 && res.status < 300;
    const view = ok ? responseView(ctx.endpoint) : undefined;
    const hooks = view && ctx.body ? this.outputHooks(ctx) : EMPTY;
    if (hooks.length === 0 && (!state || state.before.length === 0)) return res;
    if (!ok) return res;
    if (res.stream) return this.#stream(res, ctx, state, hooks);

    const [sync, later] = split(hooks);
    // The answer is parsed only for output checks; input results alone are spliced into its bytes.
    let body: unknown;
    if (hooks.length) {
      try {
        body = res.body;
      } catch {
        body = undefined;
      }
    }
    const original = body;
    const before = state?.before ?? [];
    let after: HookResult[] = [];
    if (view && hooks.length) {
      const snap: Snapshot = { json: isObject(body) ? body : undefined, text: view.read(body) };
      const env = this.#outputEnv(ctx, state, view, res.status);
      const outcome = sync.length ? await runHooks(sync, snap, env) : { results: [], snap };
      after = outcome.results;
      if (outcome.snap !== snap) body = outcome.snap.json;
      if (later.length) this.#runAsync(later, outcome.snap, env);
    }
    if (before.length === 0 && after.length === 0) return res;
    const v = verdictOf(after);
    if (v.denied) return this.#deny(ctx, before, after, 'output');
    const failed = (state?.failed ?? false) || v.failed;
    const results = { before_request_hooks: before, after_request_hooks: after };
    if (body !== original) {
      if (isObject(body)) res.body = { ...body, hook_results: results };
    } else res.addField('hook_results', results);
    if (failed) res.status = FAILED_STATUS;
    this.#verdict(ctx, failed ? 'failed' : 'passed', [...before, ...after]);
    return res;
  }

  #outputEnv(ctx: RequestContext, state: RequestState | undefined, view: RunEnv['view'], status: number): RunEnv {
    let request = state?.request;
    if (!request) {
      const rv = requestView(ctx.endpoint);
      request = { json: ctx.body, text: rv && ctx.body ? rv.read(ctx.body) : '' };
    }
    return {
      ctx,
      side: 'output',
      view,
      request,
      status,
      timeoutMs: this.#timeoutMs,
      logger: this.#api.logger,
      egress: this.#api.egress,
      regexMeter: this.#runMeter,
    };
  }

  /** A 446 in the request's API shape, with `hook_results`. */
  #deny(ctx: RequestContext, before: HookResult[], after: HookResult[], side: Side): GatewayResponse {
    const hookResults = { before_request_hooks: before, after_request_hooks: after };
    const err = new GatewayError('hooks_failed', DENIED_STATUS, HOOKS_FAILED_MESSAGE, {
      type: 'hooks_failed',
      body: { error: { message: HOOKS_FAILED_MESSAGE, type: 'hooks_failed', param: null, code: null }, hook_results: hookResults },
    });
    const res = this.#api.errorResponse(err, ctx);
    const body = res.body;
    // An API with its own error shape (Anthropic's) built its body without them.
    if (isObject(body) && !('hook_results' in body)) res.body = { ...body, hook_results: hookResults };
    res.source = this.#name;
    this.#verdict(ctx, 'denied', [...before, ...after], side);
    return res;
  }

  /** The response header and the request's log line. */
  #verdict(ctx: RequestContext, verdict: 'passed' | 'failed' | 'denied', results: readonly HookResult[], side?: Side): void {
    ctx.responseHeaders[VERDICT_HEADER] = verdict;
    ctx.annotate('guardrails', verdict);
    if (verdict !== 'passed') {
      const failedChecks: string[] = [];
      for (const r of results) {
        if (r.verdict) continue;
        for (const c of r.checks) if (!c.verdict) failedChecks.push(`${r.id}:${c.id}${c.error ? ' (error)' : ''}`);
      }
      ctx.annotate('guardrailsFailed', failedChecks);
      if (side) ctx.annotate('guardrailsDeniedAt', side);
    }
  }

  /** `async: true` hooks: run without holding the answer; their results go to the log, never nowhere. */
  #runAsync(hooks: readonly HookSpec[], snap: Snapshot, env: RunEnv): void {
    const logger = this.#api.logger;
    const ctx = env.ctx;
    runHooks(hooks, snap, { ...env, view: undefined }).then(
      ({ results }) => {
        const { failed } = verdictOf(results);
        const line = { reqId: ctx.id, side: env.side, verdict: failed ? 'failed' : 'passed', hook_results: results };
        if (failed) logger.warn(line, 'async guardrails failed');
        else logger.info(line, 'async guardrails passed');
      },
      (err: unknown) => logger.error({ reqId: ctx.id, side: env.side, err: (err as Error)?.message }, 'async guardrails could not run'),
    );
  }

  // -------------------------------------------------------------------------------------------
  // streams

  async #stream(res: GatewayResponse, ctx: RequestContext, state: RequestState | undefined, hooks: readonly HookSpec[]): Promise<GatewayResponse> {
    const before = state?.before ?? [];
    if (state?.failed && res.status === 200) res.status = FAILED_STATUS;
    if (before.length) this.#verdict(ctx, state?.failed ? 'failed' : 'passed', before);
    if (hooks.length === 0) return res;
    const def = this.#api.endpointOf(ctx);
    const format = def?.stream;
    if (!format) {
      this.#api.logger.warn({ reqId: ctx.id, endpoint: ctx.endpoint }, 'output guardrails skipped: the endpoint has no stream format');
      return res;
    }
    const [sync, later] = split(hooks);
    // Mutators must change the text before the client sees it: the answer is gathered, changed and replayed.
    if (sync.some((h) => h.mutates)) {
      if (def.codec) return this.#buffered(res, ctx, state, sync, later);
      this.#api.logger.warn(
        { reqId: ctx.id, endpoint: ctx.endpoint },
        'output mutators cannot change this stream (the endpoint has no codec); their changes are not applied',
      );
    }
    res.stream = this.#watch(res.stream!, ctx, state, sync, later);
    return res;
  }

  /**
   * Relays the stream event by event while its text accumulates. Checks of deny hooks that can tell
   * early (`partial`) see the text before each event is passed on; when one fails, the stream ends
   * with a terminal error event naming the guardrail, and the upstream is closed. At the proper end,
   * every output check runs on the complete answer; their results go out in one `hook_results` event
   * before the end event (and a failed deny hook ends the stream with an error event instead).
   */
  async *#watch(
    inner: AsyncIterable<SSEEvent>,
    ctx: RequestContext,
    state: RequestState | undefined,
    sync: readonly HookSpec[],
    later: readonly HookSpec[],
  ): AsyncGenerator<SSEEvent> {
    const def = this.#api.endpointOf(ctx)!;
    const format = def.stream!;
    const codec = def.codec;
    const read = streamTextReader(ctx.endpoint);
    const early: Early[] = [];
    for (const hook of sync) {
      if (hook.deny) for (const spec of hook.checks) if (typeof spec.check.partial === 'function') early.push({ hook, spec, off: false });
    }
    const events: SSEEvent[] | undefined = codec ? [] : undefined;
    let text = '';
    let ended = false;
    for await (const ev of inner) {
      // An earlier answer's results (a cache replaying what it stored) are replaced by this one's.
      if (isHookResultsEvent(ev)) continue;
      if (format.isEnd(ev)) {
        ended = true;
        const end = await this.#finish(ctx, state, sync, later, events, text, ev.event !== undefined);
        yield end.results;
        yield end.denied ?? ev;
        if (end.denied) return;
        continue;
      }
      const delta = read?.(ev);
      if (delta) {
        text += delta;
        if (early.length) {
          const hit = this.#partial(ctx, early, text);
          if (hit) {
            yield format.errorEvent(this.#streamDenied(ctx, state, hit.hook, hit.spec, text));
            return;
          }
        }
      }
      events?.push(ev);
      yield ev;
    }
    // No proper end: the stream failed (its terminal error event went out) or its source has no end event.
    if (!ended && !ctx.streamError) {
      const end = await this.#finish(ctx, state, sync, later, events, text, false);
      yield end.results;
      if (end.denied) yield end.denied;
    } else if (!ended) {
      this.#api.logger.info({ reqId: ctx.id }, 'output guardrails not run: the stream failed before its end');
    }
  }

  /**
   * The first early check of a deny hook that has already failed for good on the text so far. A
   * request's own checks draw on its `early` regex budget (each look reads the whole text so far):
   * when it is spent they stop looking, and the check at the end of the stream decides.
   */
  #partial(ctx: RequestContext, early: Early[], text: string): Early | undefined {
    for (const e of early) {
      if (e.off) continue;
      let v: boolean | undefined;
      try {
        v = e.spec.trusted ? e.spec.check.partial!(text, e.spec.params) : e.spec.check.partial!(text, e.spec.params, this.#meter(ctx, 'early'));
      } catch (err) {
        // Cannot tell: the full check at the end decides (and records the error if it throws too). A
        // request's own check is not asked again (its early budget may be spent).
        if (!e.spec.trusted) e.off = true;
        this.#api.logger.warn({ reqId: ctx.id, check: e.spec.id, err: (err as Error).message }, 'a guardrail check failed on the partial text');
        continue;
      }
      if (v === false) return e;
    }
    return undefined;
  }

  /** The error that ends a stream a deny hook stopped midway. */
  #streamDenied(ctx: RequestContext, state: RequestState | undefined, hook: HookSpec, spec: HookSpec['checks'][number], text: string): GatewayError {
    const now = new Date().toISOString();
    const result: HookResult = {
      verdict: false,
      id: hook.id,
      transformed: false,
      checks: [
        {
          verdict: false,
          id: spec.id,
          data: { explanation: 'failed on the streamed text so far; the stream was stopped', streamed_characters: text.length },
          execution_time: 0,
          transformed: false,
          created_at: now,
          fail_on_error: spec.failOnError,
        },
      ],
      feedback: null,
      execution_time: 0,
      async: false,
      type: hook.type,
      created_at: now,
      deny: true,
    };
    const message = `Output guardrail ${hook.id} denied the answer while it streamed: check ${spec.id} failed`;
    const hookResults = { before_request_hooks: state?.before ?? [], after_request_hooks: [result] };
    const err = new GatewayError('guardrail_denied', DENIED_STATUS, message, {
      type: 'hooks_failed',
      body: { error: { message, type: 'hooks_failed', param: null, code: 'guardrail_denied' }, hook_results: hookResults },
    });
    ctx.failStream(err);
    this.#verdict(ctx, 'denied', [result], 'output');
    return err;
  }

  /** At the end of a stream: every output check on the complete answer; the results event, and the error event if a deny hook failed. */
  async #finish(
    ctx: RequestContext,
    state: RequestState | undefined,
    sync: readonly HookSpec[],
    later: readonly HookSpec[],
    events: SSEEvent[] | undefined,
    text: string,
    named: boolean,
  ): Promise<{ results: SSEEvent; denied?: SSEEvent }> {
    const def = this.#api.endpointOf(ctx)!;
    let json: unknown;
    if (events && def.codec) {
      try {
        json = def.codec.fromEvents(events);
      } catch {
        json = undefined;
      }
    }
    const snap: Snapshot = { json: isObject(json) ? json : undefined, text };
    const env = this.#outputEnv(ctx, state, responseView(ctx.endpoint), 200);
    const outcome = sync.length ? await runHooks(sync, snap, env) : { results: [], snap };
    if (later.length) this.#runAsync(later, snap, env);
    const before = state?.before ?? [];
    const after = outcome.results;
    const v = verdictOf(after);
    const failed = (state?.failed ?? false) || v.failed;
    const all = [...before, ...after];
    const hookResults = { before_request_hooks: before, after_request_hooks: after };
    const results = hookResultsEvent(ctx.endpoint, hookResults, named);
    if (!v.denied) {
      this.#verdict(ctx, failed ? 'failed' : 'passed', all);
      return { results };
    }
    const message = `Output guardrail ${v.denied.id} denied the answer at the end of the stream`;
    const err = new GatewayError('guardrail_denied', DENIED_STATUS, message, {
      type: 'hooks_failed',
      body: { error: { message, type: 'hooks_failed', param: null, code: 'guardrail_denied' }, hook_results: hookResults },
    });
    ctx.failStream(err);
    this.#verdict(ctx, 'denied', all, 'output');
    return { results, denied: def.stream!.errorEvent(err) };
  }

  /**
   * A stream with output mutators: gathered whole, checked and changed like a JSON answer, then
   * replayed from the changed answer (with `hook_results` before the end event). A deny is a 446,
   * since nothing has reached the client yet.
   */
  async #buffered(
    res: GatewayResponse,
    ctx: RequestContext,
    state: RequestState | undefined,
    sync: readonly HookSpec[],
    later: readonly HookSpec[],
  ): Promise<GatewayResponse> {
    const def = this.#api.endpointOf(ctx)!;
    const format = def.stream!;
    const codec = def.codec!;
    const events: SSEEvent[] = [];
    for await (const ev of res.stream!) if (!isHookResultsEvent(ev)) events.push(ev);
    if (ctx.streamError) {
      // The stream failed: only its terminal error event is sent (none of the unchecked text).
      const last = events[events.length - 1];
      res.stream = replay(last ? [last] : []);
      return res;
    }
    const json = codec.fromEvents(events);
    const view = responseView(ctx.endpoint);
    const snap: Snapshot = { json: isObject(json) ? json : undefined, text: view ? view.read(json) : '' };
    const env = this.#outputEnv(ctx, state, view, res.status);
    const outcome = await runHooks(sync, snap, env);
    if (later.length) this.#runAsync(later, outcome.snap, env);
    const before = state?.before ?? [];
    const after = outcome.results;
    const v = verdictOf(after);
    if (v.denied) return this.#deny(ctx, before, after, 'output');
    const failed = (state?.failed ?? false) || v.failed;
    const out = codec.toEvents(outcome.snap.json ?? json);
    const end = out.findIndex((e) => format.isEnd(e));
    const resultsEv = hookResultsEvent(
      ctx.endpoint,
      { before_request_hooks: before, after_request_hooks: after },
      end !== -1 && out[end]!.event !== undefined,
    );
    if (end === -1) out.push(resultsEv);
    else out.splice(end, 0, resultsEv);
    res.stream = replay(out);
    if (failed && (res.status === 200 || res.status === FAILED_STATUS)) res.status = FAILED_STATUS;
    this.#verdict(ctx, failed ? 'failed' : 'passed', [...before, ...after]);
    return res;
  }
}

/** Sync hooks (the answer waits for them) and async ones (it does not). */
function split(hooks: readonly HookSpec[]): [HookSpec[], HookSpec[]] {
  const sync: HookSpec[] = [];
  const later: HookSpec[] = [];
  for (const h of hooks) (h.async ? later : sync).push(h);
  return [sync, later];
}

async function* replay(events: readonly SSEEvent[]): AsyncGenerator<SSEEvent> {
  for (const ev of events) yield ev;
}
