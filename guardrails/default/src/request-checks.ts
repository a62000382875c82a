/**
 * Checks on the request itself (before the call): which model, which endpoint, which metadata,
 * and the addPrefix mutator. Parameter names and meanings are Portkey's.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import { PORTKEY_REQUEST_TYPES, isPlainObject, not, stringList } from './common.js';

const modelOf = (json: Record<string, unknown> | undefined): string | undefined => (typeof json?.model === 'string' ? json.model : undefined);

/** The request's `model` is one of `models`; with `not`, it must not be. */
export const modelWhitelist = defineCheck({
  id: 'modelWhitelist',
  hooks: ['beforeRequest'],
  params: z.strictObject({ models: z.array(z.string().min(1)).min(1, 'give at least one model'), not }),
  run({ params, request }) {
    const model = modelOf(request.json);
    if (model === undefined) return { verdict: false, data: { explanation: 'The request names no model.' } };
    const listed = params.models.includes(model);
    return {
      verdict: listed !== params.not,
      data: { explanation: `Model ${JSON.stringify(model)} is ${listed ? '' : 'not '}in the list${params.not ? ' of blocked models' : ''}.`, model },
    };
  },
});

const modelList = z.array(z.string().min(1));
const RulesParams = z.strictObject({
  rules: z
    .strictObject({
      defaults: modelList.optional(),
      metadata: z.record(z.string(), z.record(z.string(), modelList)).optional(),
    })
    .refine((r) => (r.defaults?.length ?? 0) > 0 || Object.keys(r.metadata ?? {}).length > 0, 'rules needs defaults or metadata rules'),
  not,
});

/**
 * The models allowed for this request come from `rules.metadata[key][value]` for every metadata
 * key the request carries (values may be lists), merged; when none matches, from `rules.defaults`.
 * The request's model must be in that set (with `not`: must not be). No set at all fails (or,
 * with `not`, passes: nothing is blocked).
 */
export const modelRules = defineCheck({
  id: 'modelRules',
  hooks: ['beforeRequest'],
  params: RulesParams,
  run({ params, request, metadata }) {
    const model = modelOf(request.json);
    if (model === undefined) return { verdict: false, data: { explanation: 'The request names no model.' } };
    const allowed = new Set<string>();
    const matchedRules: string[] = [];
    for (const [key, byValue] of Object.entries(params.rules.metadata ?? {})) {
      const v = metadata[key];
      if (v === undefined || v === null) continue;
      for (const value of Array.isArray(v) ? v.map(String) : [String(v)]) {
        const models = byValue[value];
        if (!models) continue;
        matchedRules.push(`${key}:${value}`);
        for (const m of models) allowed.add(m);
      }
    }
    const usingDefaults = allowed.size === 0;
    if (usingDefaults) for (const m of params.rules.defaults ?? []) allowed.add(m);
    const listed = allowed.has(model);
    return {
      verdict: listed !== params.not,
      data: {
        explanation: `Model ${JSON.stringify(model)} is ${listed ? '' : 'not '}in the models the rules give${params.not ? ' (a block list, by not)' : ''}.`,
        model,
        matchedRules,
        usingDefaults,
      },
    };
  },
});

/** A request type as Waygate's endpoint id (`chat.completions`), also accepting Portkey's names (`chatComplete`). */
function endpointId(type: string): string {
  return PORTKEY_REQUEST_TYPES[type] ?? type;
}
const typeList = stringList.transform((list) => [...new Set(list.map(endpointId))]);

const RequestTypeParams = z.strictObject({ allowedTypes: typeList.optional(), blockedTypes: typeList.optional() }).superRefine((p, ctx) => {
  const both = (p.allowedTypes ?? []).filter((t) => p.blockedTypes?.includes(t));
  if (both.length)
    ctx.addIssue({ code: 'custom', message: `in both allowedTypes and blockedTypes: ${both.join(', ')}`, path: ['blockedTypes'], input: p });
});

/**
 * The endpoint is allowed: in `allowedTypes` (when given) and not in `blockedTypes` (block wins).
 * Without parameters, the lists come from the request's metadata (`supported_endpoints`,
 * `blocked_endpoints`), as in Portkey; with neither, everything passes. Types are Waygate's
 * endpoint ids (`chat.completions`, `embeddings`, `messages`, ...) or Portkey's names
 * (`chatComplete`, `complete`, `embed`, `messages`, ...).
 */
export const allowedRequestTypes = defineCheck({
  id: 'allowedRequestTypes',
  hooks: ['beforeRequest'],
  params: RequestTypeParams,
  run({ params, endpoint, metadata }) {
    const fromMeta = (v: unknown): string[] | undefined => {
      const parsed = typeList.safeParse(v);
      return parsed.success && parsed.data.length ? parsed.data : undefined;
    };
    const allowed = params.allowedTypes?.length ? params.allowedTypes : fromMeta(metadata.supported_endpoints);
    const blocked = params.blockedTypes?.length ? params.blockedTypes : fromMeta(metadata.blocked_endpoints);
    const source = params.allowedTypes?.length || params.blockedTypes?.length ? 'parameters' : allowed || blocked ? 'metadata' : 'default';
    const isBlocked = blocked?.includes(endpoint) ?? false;
    const isAllowed = allowed ? allowed.includes(endpoint) : true;
    const verdict = !isBlocked && isAllowed;
    return {
      verdict,
      data: {
        explanation: isBlocked
          ? `Request type ${endpoint} is blocked.`
          : verdict
            ? `Request type ${endpoint} is allowed.`
            : `Request type ${endpoint} is not in the allowed types.`,
        currentRequestType: endpoint,
        allowedTypes: allowed ?? ['all'],
        blockedTypes: blocked ?? [],
        source,
      },
    };
  },
});

/** The request's metadata has `all` (default), `any` or `none` of `metadataKeys`. */
export const requiredMetadataKeys = defineCheck({
  id: 'requiredMetadataKeys',
  hooks: ['beforeRequest'],
  params: z.strictObject({
    metadataKeys: z.array(z.string().min(1)).min(1, 'give at least one metadata key'),
    operator: z.enum(['all', 'any', 'none']).default('all'),
  }),
  run({ params, metadata }) {
    const found = params.metadataKeys.filter((k) => Object.hasOwn(metadata, k));
    const missing = params.metadataKeys.filter((k) => !Object.hasOwn(metadata, k));
    const verdict = params.operator === 'all' ? missing.length === 0 : params.operator === 'any' ? found.length > 0 : found.length === 0;
    return {
      verdict,
      data: {
        explanation: `Check ${verdict ? 'passed' : 'failed'} for "${params.operator}" metadata keys.`,
        operator: params.operator,
        found_metadata_keys: found,
        missing_metadata_keys: missing,
      },
    };
  },
});

// ---------------------------------------------------------------------------------------------
// addPrefix

const AddPrefixParams = z.strictObject({
  prefix: z.string().min(1, 'prefix is empty'),
  applyToRole: z.enum(['user', 'system', 'assistant', 'developer']).default('user'),
  addToExisting: z.boolean().default(true),
  onlyIfEmpty: z.boolean().default(false),
});
type AddPrefix = z.output<typeof AddPrefixParams>;
type Json = Record<string, unknown>;

/**
 * Content (a string, an array of parts or blocks, or nothing) with the prefix in front, Portkey's way:
 * when the first part is text, the prefix goes in front of its text; otherwise (an image first, or no
 * parts) a new text part holding the prefix is inserted before the others.
 */
function prefixed(content: unknown, prefix: string): unknown {
  if (typeof content === 'string') return prefix + content;
  if (Array.isArray(content)) {
    const first = content[0];
    if (isPlainObject(first) && first.type === 'text')
      return [{ ...first, text: prefix + (typeof first.text === 'string' ? first.text : '') }, ...content.slice(1)];
    return [{ type: 'text', text: prefix }, ...content];
  }
  return prefix;
}

/** Portkey's test of empty content for `onlyIfEmpty`: blank text, or no parts at all. */
function isEmptyContent(content: unknown): boolean {
  return (typeof content === 'string' && content.trim().length === 0) || (Array.isArray(content) && content.length === 0);
}

/**
 * A list of role messages with the prefix applied, Portkey's way: the first message with the role
 * gets the prefix in front of its content (`addToExisting`), or a new message with the prefix is put
 * before it (`addToExisting: false`); with `onlyIfEmpty`, only when that content is empty (blank
 * text or no parts). Without such a message, one is added (whatever `onlyIfEmpty`): first for system
 * and developer, last otherwise. A new message's content is a string, or a text block for Anthropic's
 * `messages` (as Portkey writes it).
 */
function prefixMessages(messages: unknown[], p: AddPrefix, blocks: boolean): { messages: unknown[]; changed: string } | undefined {
  const i = messages.findIndex((m) => isPlainObject(m) && m.role === p.applyToRole);
  const out = messages.slice();
  const fresh = { role: p.applyToRole, content: blocks ? [{ type: 'text', text: p.prefix }] : p.prefix };
  if (i === -1) {
    if (p.applyToRole === 'system' || p.applyToRole === 'developer') out.unshift(fresh);
    else out.push(fresh);
    return { messages: out, changed: 'added a message' };
  }
  const m = messages[i] as Json;
  if (p.onlyIfEmpty && !isEmptyContent(m.content)) return undefined;
  if (!p.addToExisting) {
    out.splice(i, 0, fresh);
    return { messages: out, changed: 'inserted a message' };
  }
  out[i] = { ...m, content: prefixed(m.content, p.prefix) };
  return { messages: out, changed: 'prefixed a message' };
}

/** Anthropic's `system` (a string or text blocks) with the prefix applied, by the same rules. */
function prefixSystem(system: unknown, p: AddPrefix): { system: unknown; changed: string } | undefined {
  const none = system === undefined || system === null || system === '' || (Array.isArray(system) && system.length === 0);
  if (none) return { system: p.prefix, changed: 'added a system prompt' };
  if (p.onlyIfEmpty && !isEmptyContent(system)) return undefined;
  if (p.addToExisting) return { system: prefixed(system, p.prefix), changed: 'prefixed the system prompt' };
  const blocks = typeof system === 'string' ? [{ type: 'text', text: system }] : Array.isArray(system) ? system : [];
  return { system: [{ type: 'text', text: p.prefix }, ...blocks], changed: 'inserted a system block' };
}

/**
 * A mutator: adds `prefix` to the request. Chat completions: the messages of `applyToRole` (default
 * user). Anthropic messages: `system` for system (and developer), the messages otherwise.
 * Completions: in front of `prompt` (each prompt when it is a list of strings). Other endpoints and
 * token-array prompts are left alone. Always passes.
 */
export const addPrefix = defineCheck({
  id: 'addPrefix',
  hooks: ['beforeRequest'],
  mutates: true,
  params: AddPrefixParams,
  run({ params, request, endpoint }) {
    const json = request.json;
    const skip = (why: string) => ({ verdict: true, data: { explanation: `Nothing changed: ${why}.` } });
    if (!json) return skip('the request has no JSON body');
    let transformed: Json | undefined;
    let changed = '';
    if (endpoint === 'messages' && Array.isArray(json.messages)) {
      if (params.applyToRole === 'system' || params.applyToRole === 'developer') {
        const r = prefixSystem(json.system, params);
        if (r) [transformed, changed] = [{ ...json, system: r.system }, r.changed];
      } else {
        const r = prefixMessages(json.messages, params, true);
        if (r) [transformed, changed] = [{ ...json, messages: r.messages }, r.changed];
      }
    } else if (Array.isArray(json.messages)) {
      const r = prefixMessages(json.messages, params, false);
      if (r) [transformed, changed] = [{ ...json, messages: r.messages }, r.changed];
    } else if (typeof json.prompt === 'string') {
      [transformed, changed] = [{ ...json, prompt: params.prefix + json.prompt }, 'prefixed the prompt'];
    } else if (Array.isArray(json.prompt) && json.prompt.length > 0 && json.prompt.every((s) => typeof s === 'string')) {
      [transformed, changed] = [{ ...json, prompt: json.prompt.map((s) => params.prefix + (s as string)) }, 'prefixed each prompt'];
    } else {
      return skip(`${endpoint} requests have no messages or text prompt to prefix`);
    }
    if (!transformed) return skip(`the ${params.applyToRole} content is not empty and onlyIfEmpty is set`);
    return {
      verdict: true,
      data: {
        explanation: `Applied the prefix: ${changed}.`,
        applyToRole: params.applyToRole,
        addToExisting: params.addToExisting,
        onlyIfEmpty: params.onlyIfEmpty,
      },
      transformedJson: transformed,
    };
  },
});
