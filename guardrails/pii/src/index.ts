import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { defineCheck, registerChecks } from '@waygate/guardrails';
import type { CheckInput, GuardrailCheck } from '@waygate/guardrails';
import { CATEGORIES } from './detectors.js';
import type { Category, Rule } from './detectors.js';
import { addTo, newTally, redact, rulesFor, scan, settled } from './engine.js';
import type { Tally } from './engine.js';
import { mapRequestTexts, mapResponseTexts } from './bodies.js';

export { CATEGORIES, RULES, kindsOf } from './detectors.js';
export type { Category, Rule } from './detectors.js';
export { scan, redact, rulesFor, settled } from './engine.js';
export type { Finding, Tally } from './engine.js';
export { mapRequestTexts, mapResponseTexts } from './bodies.js';
export * as validators from './validators.js';

/** The namespace of this package's checks: `pii.detect` and `pii.redact`. */
export const NAMESPACE = 'pii';

const categories = z
  .array(z.enum(CATEGORIES))
  .min(1, 'give at least one category, or leave categories out for all')
  .optional()
  .transform((c): Category[] => (c ? [...new Set(c)] : [...CATEGORIES]));

const DetectParams = z.strictObject({ categories }).transform((p) => ({ ...p, rules: rulesFor(p.categories) }));

const RedactParams = z
  .strictObject({
    categories,
    /** The replacement; `{kind}` in it is replaced by the kind (EMAIL, CREDIT_CARD, ...). Default `[REDACTED_{kind}]`. */
    mask: z.string().max(200).optional(),
    failOnDetection: z.boolean().default(false),
  })
  .transform((p) => {
    const template = p.mask ?? '[REDACTED_{kind}]';
    const masks = new Map<string, string>();
    const maskFor = (kind: string): string => {
      let m = masks.get(kind);
      if (m === undefined) masks.set(kind, (m = template.replaceAll('{kind}', kind)));
      return m;
    };
    return { ...p, rules: rulesFor(p.categories), maskFor };
  });

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** This side of the call: the body (when it is JSON we understand) and the text. */
function side(input: CheckInput<unknown>): { json: Json | undefined; text: string; map: (body: Json, fn: (t: string) => string) => Json } {
  if (input.hook === 'beforeRequest') return { json: input.request.json, text: input.request.text, map: mapRequestTexts };
  const json = input.response?.json;
  return { json: isObject(json) ? json : undefined, text: input.response?.text ?? '', map: mapResponseTexts };
}

/**
 * Scans this side of the call: every text of the body when there is one (all messages, the system
 * prompt, tool-call arguments; all choices of an answer), else the text. With `mask`, returns the
 * redacted body and text too.
 */
function inspect(input: CheckInput<unknown>, rules: readonly Rule[], mask?: (kind: string) => string): { tally: Tally; json?: Json; text?: string } {
  const s = side(input);
  const tally = newTally();
  let visited = 0;
  let json: Json | undefined;
  if (s.json) {
    const mapped = s.map(s.json, (t) => {
      visited++;
      const found = scan(t, rules);
      addTo(tally, found);
      return mask && found.length ? redact(t, found, mask) : t;
    });
    if (mapped !== s.json) json = mapped;
  }
  let text: string | undefined;
  const inText = scan(s.text, rules);
  if (visited === 0) addTo(tally, inText);
  if (mask && inText.length) text = redact(s.text, inText, mask);
  return { tally, json, text };
}

function report(t: Tally, redacted: boolean) {
  const list = Object.entries(t.kinds)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return {
    explanation: t.total === 0 ? 'No personal data or secrets found.' : `Found ${list}${redacted ? ', masked' : ''}.`,
    total: t.total,
    kinds: t.kinds,
    categories: t.categories,
  };
}

/**
 * Detects personal data and secrets; fails when any is found. Before the call it looks at every
 * message of the request, after it at the whole answer. The data gives kinds and counts, never the
 * values found.
 */
export const detect = defineCheck({
  id: 'detect',
  params: DetectParams,
  run(input) {
    const { tally } = inspect(input, input.params.rules);
    return { verdict: tally.total === 0, data: report(tally, false) };
  },
  partial(text, params) {
    return settled(scan(text, params.rules), text.length).length > 0 ? false : undefined;
  },
});

/**
 * A mutator: masks personal data and secrets with `[REDACTED_<KIND>]` (or `mask`) in every message
 * of the request before the call (all of them, not only the last), and in the answer after it.
 * Returns the whole body redacted (transformedJson) and the check's text redacted (transformedText).
 * Passes unless `failOnDetection` is set and something was found.
 */
export const redactCheck = defineCheck({
  id: 'redact',
  mutates: true,
  params: RedactParams,
  run(input) {
    const { tally, json, text } = inspect(input, input.params.rules, input.params.maskFor);
    return {
      verdict: !(input.params.failOnDetection && tally.total > 0),
      data: report(tally, true),
      ...(json ? { transformedJson: json } : {}),
      ...(text !== undefined ? { transformedText: text } : {}),
    };
  },
  partial(text, params) {
    return params.failOnDetection && settled(scan(text, params.rules), text.length).length > 0 ? false : undefined;
  },
});

export const CHECKS: readonly GuardrailCheck[] = Object.freeze([detect, redactCheck] as GuardrailCheck[]);

const manifest = pluginManifest(import.meta.url, 'guardrail');

export default definePlugin({
  manifest,
  configSchema: z.strictObject({}),
  setup(api) {
    registerChecks(api, NAMESPACE, CHECKS);
  },
});
