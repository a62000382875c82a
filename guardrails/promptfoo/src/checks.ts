/**
 * promptfoo.guard, promptfoo.pii and promptfoo.harm: Promptfoo's guardrail API (no key), with Portkey's ids.
 *
 *   POST {base:-https://api.promptfoo.dev/v1}/{guard|pii|harm}  {"input": text}
 *   → {"model", "results": [{"flagged": bool, "categories": {...: bool}, "category_scores": {...: number}, "payload"?: {"pii": [{entity_type, start, end, pii}]}}]}
 *
 * guard fails on `categories.jailbreak` (as Portkey), harm on `flagged`, pii on `flagged` (or, with
 * `redact`, passes with each entity replaced by `[ENTITY_TYPE]`).
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckInput, GuardrailCheck } from '@waygate/guardrails';
import { VendorError, baseUrlParam, callVendor, isPlainObject, nothingToCheck, textOf, timeoutParam } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Promptfoo';
export const PROMPTFOO_BASE_URL = 'https://api.promptfoo.dev/v1';

/** Promptfoo needs no key; `baseURL` points at another deployment. */
export const PromptfooCredentialsSchema = z.strictObject({ baseURL: baseUrlParam.optional() });
export type PromptfooCredentials = z.output<typeof PromptfooCredentialsSchema>;

interface PfResult {
  flagged: boolean;
  categories: Record<string, unknown>;
  category_scores: Record<string, unknown>;
  payload?: unknown;
}

async function ask(
  input: CheckInput<{ timeout: number; credentials?: PromptfooCredentials }>,
  options: PromptfooCredentials | undefined,
  endpoint: 'guard' | 'pii' | 'harm',
  text: string,
): Promise<PfResult> {
  const base = input.params.credentials?.baseURL ?? options?.baseURL ?? PROMPTFOO_BASE_URL;
  const a = await callVendor(input, { vendor: VENDOR, url: `${base}/${endpoint}`, body: { input: text }, timeout: input.params.timeout });
  const r = isPlainObject(a) && Array.isArray(a.results) ? a.results[0] : undefined;
  if (!isPlainObject(r) || typeof r.flagged !== 'boolean' || !isPlainObject(r.categories))
    throw new VendorError(`${VENDOR} ${endpoint} answered without results[0].flagged and categories`);
  return { flagged: r.flagged, categories: r.categories, category_scores: isPlainObject(r.category_scores) ? r.category_scores : {}, payload: r.payload };
}

const base = { timeout: timeoutParam(5000), credentials: PromptfooCredentialsSchema.optional() };

export function guard(options?: PromptfooCredentials) {
  return defineCheck({
    id: 'guard',
    hooks: ['beforeRequest'],
    params: z.strictObject(base),
    async run(input) {
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const r = await ask(input, options, 'guard', text);
      const jailbreak = r.categories.jailbreak === true;
      return {
        verdict: !jailbreak,
        data: {
          explanation: jailbreak ? 'Jailbreak detected.' : 'No jailbreak detected.',
          flagged: r.flagged,
          categories: r.categories,
          category_scores: r.category_scores,
        },
      };
    },
  });
}

export function harm(options?: PromptfooCredentials) {
  return defineCheck({
    id: 'harm',
    params: z.strictObject(base),
    async run(input) {
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const r = await ask(input, options, 'harm', text);
      const flagged = Object.keys(r.categories).filter((c) => r.categories[c] === true);
      return {
        verdict: !r.flagged,
        data: {
          explanation: r.flagged ? `Harmful${flagged.length ? `: ${flagged.join(', ')}` : ''}.` : 'Not harmful.',
          flagged_categories: flagged,
          category_scores: r.category_scores,
        },
      };
    },
  });
}

interface Entity {
  entity_type: string;
  start: number;
  end: number;
}

function entitiesOf(payload: unknown, length: number): Entity[] {
  const list = isPlainObject(payload) ? payload.pii : undefined;
  if (!Array.isArray(list)) throw new VendorError(`${VENDOR} pii flagged the text without payload.pii`);
  return list.map((e) => {
    if (
      !isPlainObject(e) ||
      typeof e.entity_type !== 'string' ||
      !Number.isInteger(e.start) ||
      !Number.isInteger(e.end) ||
      (e.start as number) < 0 ||
      (e.end as number) < (e.start as number) ||
      (e.end as number) > length
    )
      throw new VendorError(`${VENDOR} pii answered an entity without a valid entity_type, start and end`);
    return { entity_type: e.entity_type, start: e.start as number, end: e.end as number };
  });
}

/** Each entity's span replaced by `[TYPE]`, from the last to the first (overlaps: the earlier one is skipped). */
export function mask(text: string, entities: readonly Entity[]): string {
  let out = text;
  let limit = Infinity;
  for (const e of [...entities].sort((a, b) => b.start - a.start)) {
    if (e.end > limit) continue;
    out = `${out.slice(0, e.start)}[${e.entity_type.toUpperCase()}]${out.slice(e.end)}`;
    limit = e.start;
  }
  return out;
}

export function pii(options?: PromptfooCredentials) {
  return defineCheck({
    id: 'pii',
    mutates: true,
    params: z.strictObject({ ...base, redact: z.boolean().default(false) }),
    async run(input) {
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const r = await ask(input, options, 'pii', text);
      if (!r.flagged) return { verdict: true, data: { explanation: 'No PII found.', entities: [] } };
      const entities = entitiesOf(r.payload, text.length);
      const types = entities.map((e) => e.entity_type);
      const explanation = `${entities.length} PII entit${entities.length === 1 ? 'y' : 'ies'} found.`;
      if (input.params.redact) {
        return {
          verdict: true,
          data: { explanation: `${explanation} Redacted.`, entities: types, redacted: true },
          transformedText: mask(text, entities),
        };
      }
      return { verdict: false, data: { explanation, entities: types } };
    },
  });
}

export function createPromptfooChecks(options?: PromptfooCredentials): GuardrailCheck[] {
  return [guard(options), pii(options), harm(options)] as unknown as GuardrailCheck[];
}
