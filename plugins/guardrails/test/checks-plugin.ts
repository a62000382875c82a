// Test only: small guardrail checks under the namespace `test`, registered the way a guardrail package
// does, so the framework's tests do not depend on the bundled check packages. Module state (traces,
// gates, what checks saw) is shared with the tests, which import this same module.
import { z } from 'zod';
import { definePlugin } from '@waygate/core';
import { defineCheck, registerChecks } from '@waygate/guardrails';
import type { CheckInput, GuardrailCheck } from '@waygate/guardrails';

/** Start/end marks of `test.trace` checks, in the order they happened. */
export const trace: string[] = [];
/** What `test.seen` was given, one entry per run. */
export const seen: Array<{
  hook: string;
  text: string;
  endpoint: string;
  provider?: string;
  status?: number;
  responseText?: string;
  requestText: string;
  model?: unknown;
}> = [];

/** Promises `test.gate` waits on, by name; the test opens them. */
const gates = new Map<string, { promise: Promise<void>; open: () => void }>();
export function gate(name: string): { promise: Promise<void>; open: () => void } {
  let g = gates.get(name);
  if (!g) {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    g = { promise, open };
    gates.set(name, g);
  }
  return g;
}
/** Checks whose abort signal fired. */
export const aborted: string[] = [];
/** What `test.budget` saw: whether it got the request's regex meter, and the meter itself; `early` for its partial looks. */
export const budgets: Array<{ meter: boolean; limit?: number; object?: object; early?: boolean }> = [];
/** Calls of `test.gate`, by name. */
export const gateCalls = new Map<string, number>();

export function resetChecks(): void {
  trace.length = 0;
  seen.length = 0;
  gates.clear();
  gateCalls.clear();
  aborted.length = 0;
  budgets.length = 0;
}

const text = (input: CheckInput) => (input.hook === 'beforeRequest' ? input.request.text : (input.response?.text ?? ''));

const words = z.strictObject({ words: z.array(z.string().min(1)).min(1), operator: z.enum(['any', 'none']).default('none') });

export const CHECKS: GuardrailCheck[] = [
  /** `none`: no word appears (decidable early: once one appears it has failed); `any`: one appears. */
  defineCheck({
    id: 'contains',
    params: words,
    run(input) {
      const t = text(input).toLowerCase();
      const found = input.params.words.filter((w) => t.includes(w.toLowerCase()));
      return { verdict: input.params.operator === 'none' ? found.length === 0 : found.length > 0, data: { found } };
    },
    partial(t, params) {
      if (params.operator !== 'none') return undefined;
      const lower = t.toLowerCase();
      return params.words.some((w) => lower.includes(w.toLowerCase())) ? false : undefined;
    },
  }),
  /** At least `min` characters: only decidable on the complete text. */
  defineCheck({
    id: 'minLength',
    params: z.strictObject({ min: z.number().int().min(0) }),
    run: (input) => ({ verdict: text(input).length >= input.params.min, data: { length: text(input).length } }),
  }),
  /** A mutator: upper-cases the text. */
  defineCheck({
    id: 'upper',
    params: z.strictObject({}),
    mutates: true,
    run: (input) => ({ verdict: true, transformedText: text(input).toUpperCase() }),
  }),
  /** A mutator: replaces `from` with `to`; fails when it replaced something and `failOnMatch` is set. */
  defineCheck({
    id: 'replace',
    params: z.strictObject({ from: z.string().min(1), to: z.string(), failOnMatch: z.boolean().default(false) }),
    mutates: true,
    run(input) {
      const t = text(input);
      const out = t.split(input.params.from).join(input.params.to);
      return { verdict: !(input.params.failOnMatch && out !== t), transformedText: out };
    },
  }),
  /** A mutator that replaces the whole body (adds a field to the request). */
  defineCheck({
    id: 'tag',
    params: z.strictObject({ field: z.string().min(1), value: z.string() }),
    mutates: true,
    hooks: ['beforeRequest'],
    run: (input) => ({ verdict: true, transformedJson: { ...input.request.json, [input.params.field]: input.params.value } }),
  }),
  /** Throws (a bug, or a service that is down). */
  defineCheck({
    id: 'throws',
    params: z.strictObject({ message: z.string().default('the moderation service is down') }),
    async run(input) {
      await Promise.resolve();
      throw new Error(input.params.message);
    },
  }),
  /** Never finishes (until its signal aborts): times out. */
  defineCheck({
    id: 'hangs',
    params: z.strictObject({}),
    run: (input) =>
      new Promise((_, reject) => {
        input.signal.addEventListener('abort', () => {
          aborted.push('test.hangs');
          reject(new Error('aborted'));
        });
      }),
  }),
  /** Returns something that is not a result. */
  defineCheck({
    id: 'noVerdict',
    params: z.strictObject({}),
    run: () => ({ data: 'oops' }) as never,
  }),
  /** Waits for the named gate, then passes (or fails with `verdict: false`). */
  defineCheck({
    id: 'gate',
    params: z.strictObject({ name: z.string(), verdict: z.boolean().default(true) }),
    async run(input) {
      gateCalls.set(input.params.name, (gateCalls.get(input.params.name) ?? 0) + 1);
      await gate(input.params.name).promise;
      return { verdict: input.params.verdict, data: { gate: input.params.name } };
    },
  }),
  /** Records `start:label` and `end:label` around a few turns of the event loop. */
  defineCheck({
    id: 'trace',
    params: z.strictObject({ label: z.string(), verdict: z.boolean().default(true) }),
    async run(input) {
      trace.push(`start:${input.params.label}:${text(input)}`);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      trace.push(`end:${input.params.label}`);
      return { verdict: input.params.verdict, transformedText: `${text(input)}+${input.params.label}` };
    },
    mutates: false,
  }),
  /** Records what it was given; passes. */
  defineCheck({
    id: 'seen',
    params: z.strictObject({}),
    run(input) {
      seen.push({
        hook: input.hook,
        text: text(input),
        requestText: input.request.text,
        endpoint: input.endpoint,
        provider: input.provider,
        status: input.response?.status,
        responseText: input.response?.text,
        model: input.request.json?.model,
      });
      return { verdict: true };
    },
  }),
  /** Only before the call. */
  defineCheck({ id: 'inputOnly', params: z.strictObject({}), hooks: ['beforeRequest'], run: () => ({ verdict: true }) }),
  /** Only after the call. */
  defineCheck({ id: 'outputOnly', params: z.strictObject({}), hooks: ['afterResponse'], run: () => ({ verdict: true }) }),
  /** Parameters with a nested object (strict at both levels): passes when the text is at most `rule.limit` long. */
  defineCheck({
    id: 'nested',
    params: z.strictObject({ rule: z.strictObject({ limit: z.number().int().min(0) }) }),
    run: (input) => ({ verdict: text(input).length <= input.params.rule.limit }),
  }),
  /** Records whether it was handed the request's regex budget; `engine` is a parameter only the config file may set. */
  defineCheck({
    id: 'budget',
    params: z.strictObject({ engine: z.string().optional() }),
    fileOnlyParams: ['engine'],
    run(input) {
      budgets.push({ meter: input.regexMeter !== undefined, limit: input.regexMeter?.limit, object: input.regexMeter });
      return { verdict: true };
    },
    partial(_text, _params, meter) {
      budgets.push({ meter: meter !== undefined, limit: meter?.limit, object: meter, early: true });
      return undefined;
    },
  }),
  /** The request's model is one of `models`. */
  defineCheck({
    id: 'model',
    params: z.strictObject({ models: z.array(z.string()).min(1) }),
    hooks: ['beforeRequest'],
    run: (input) => ({ verdict: input.params.models.includes(String(input.request.json?.model)), data: { model: input.request.json?.model } }),
  }),
];

export default definePlugin({
  manifest: { name: 'test-guardrail-checks', version: '1.0.0', kind: 'guardrail', core: '^1.0.0' },
  setup(api) {
    registerChecks(api, 'test', CHECKS);
  },
});
