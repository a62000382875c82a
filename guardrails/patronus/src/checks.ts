/**
 * patronus.*: Patronus evaluators on the answer, with Portkey's ids and parameters.
 *
 *   POST {base:-https://api.patronus.ai}/v1/evaluate   X-API-KEY: <apiKey>
 *     {"evaluators": [{"evaluator", "criteria"?, "explain_strategy": "always"}], "evaluated_model_input", "evaluated_model_output"}
 *   → {"results": [{"error_message"?, "evaluation_result": {"pass": bool, "score_raw"?, "explanation"?, "additional_info"?: {"positions"?: [[start, end]]}}}]}
 *
 * Each check passes when `evaluation_result.pass` is true. pii and phi send only the answer and,
 * with `redact`, mask the spans Patronus reports instead of failing.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckInput, GuardrailCheck } from '@waygate/guardrails';
import {
  ApiKeyCredentialsSchema,
  VendorError,
  callVendor,
  isPlainObject,
  nothingToCheck,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Patronus';

export const PatronusCredentialsSchema = ApiKeyCredentialsSchema;

interface Evaluation {
  pass: boolean;
  score?: unknown;
  explanation?: unknown;
  info: Record<string, unknown>;
}

type Base = { timeout: number; credentials: ApiKeyCredentials };

async function evaluate(
  input: CheckInput<Base>,
  evaluator: string,
  criteria: string | undefined,
  modelInput: string | undefined,
  modelOutput: string,
): Promise<Evaluation> {
  const p = input.params;
  const body = {
    evaluators: [{ evaluator, ...(criteria ? { criteria } : {}), explain_strategy: 'always' }],
    ...(modelInput !== undefined ? { evaluated_model_input: modelInput } : {}),
    evaluated_model_output: modelOutput,
  };
  const a = await callVendor(input, {
    vendor: VENDOR,
    url: `${p.credentials.baseURL ?? 'https://api.patronus.ai'}/v1/evaluate`,
    headers: { 'x-api-key': p.credentials.apiKey },
    body,
    timeout: p.timeout,
  });
  const r = isPlainObject(a) && Array.isArray(a.results) ? a.results[0] : undefined;
  if (!isPlainObject(r)) throw new VendorError(`${VENDOR} answered without results[0]`);
  const e = r.evaluation_result;
  if (!isPlainObject(e) || typeof e.pass !== 'boolean') {
    const why = typeof r.error_message === 'string' && r.error_message ? `: ${r.error_message.slice(0, 200)}` : '';
    throw new VendorError(`${VENDOR} answered without evaluation_result.pass${why}`);
  }
  return { pass: e.pass, score: e.score_raw, explanation: e.explanation, info: isPlainObject(e.additional_info) ? e.additional_info : {} };
}

function verdictOf(what: string, ev: Evaluation) {
  return {
    verdict: ev.pass,
    data: {
      explanation: typeof ev.explanation === 'string' && ev.explanation ? ev.explanation : `${what}: ${ev.pass ? 'passed' : 'failed'}.`,
      pass: ev.pass,
      score: ev.score,
      additional_info: ev.info,
    },
  };
}

/** An evaluator of the request's text and the answer's (after the call only). */
function judged(id: string, evaluator: string, criteria: string | undefined, timeout: number, fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id,
    hooks: ['afterResponse'],
    params: withCredentials({ timeout: timeoutParam(timeout) }, PatronusCredentialsSchema, fromOptions, 'Patronus credentials'),
    async run(input) {
      const output = input.response?.text ?? '';
      if (!output) return nothingToCheck(VENDOR);
      return verdictOf(`patronus.${id}`, await evaluate(input, evaluator, criteria, input.request.text, output));
    },
  });
}

/** Portkey's judge checks: id → Patronus criteria. */
export const JUDGE_CRITERIA = {
  isConcise: 'patronus:is-concise',
  isHelpful: 'patronus:is-helpful',
  isPolite: 'patronus:is-polite',
  noApologies: 'patronus:no-apologies',
  noGenderBias: 'patronus:no-gender-bias',
  noRacialBias: 'patronus:no-racial-bias',
} as const;

/** Positions Patronus reports, checked against the text and merged where they overlap. */
export function spansOf(info: Record<string, unknown>, length: number): [number, number][] {
  const raw = info.positions;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new VendorError(`${VENDOR} answered positions that are not a list`);
  const spans = raw.map((s): [number, number] => {
    if (!Array.isArray(s) || s.length !== 2 || !Number.isInteger(s[0]) || !Number.isInteger(s[1]) || s[0] < 0 || s[1] < s[0] || s[1] > length)
      throw new VendorError(`${VENDOR} answered a position outside the text`);
    return [s[0] as number, s[1] as number];
  });
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([...s]);
  }
  return merged;
}

/** Each span masked with `*`, keeping its first and last character when it is longer than 4 (as Portkey). */
export function maskSpans(text: string, spans: readonly [number, number][]): string {
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    const s = text.slice(start, end);
    out += text.slice(at, start) + (s.length <= 4 ? '*'.repeat(s.length) : `${s[0]}${'*'.repeat(s.length - 2)}${s[s.length - 1]}`);
    at = end;
  }
  return out + text.slice(at);
}

function redacting(id: 'pii' | 'phi', fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id,
    hooks: ['afterResponse'],
    mutates: true,
    params: withCredentials(
      { redact: z.boolean().default(false), timeout: timeoutParam(5000) },
      PatronusCredentialsSchema,
      fromOptions,
      'Patronus credentials',
    ),
    async run(input) {
      const output = input.response?.text ?? '';
      if (!output) return nothingToCheck(VENDOR);
      const ev = await evaluate(input, id, undefined, undefined, output);
      const result = verdictOf(`patronus.${id}`, ev);
      if (ev.pass || !input.params.redact) return result;
      const spans = spansOf(ev.info, output.length);
      if (spans.length === 0) throw new VendorError(`${VENDOR} found ${id.toUpperCase()} but answered no positions to redact`);
      return { verdict: true, data: { ...result.data, redacted: true, redacted_spans: spans.length }, transformedText: maskSpans(output, spans) };
    },
  });
}

/** `profile`: `evaluator:criteria`, or a criteria name alone for the `judge` evaluator. */
const profileParam = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'profile is "evaluator:criteria" or a criteria name')
  .transform((s) => {
    const i = s.indexOf(':');
    return i < 0 ? { evaluator: 'judge', criteria: s } : { evaluator: s.slice(0, i), criteria: s.slice(i + 1) };
  })
  .refine((p) => p.evaluator.length > 0 && p.criteria.length > 0, 'profile is "evaluator:criteria" or a criteria name');

export function custom(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'custom',
    hooks: ['afterResponse'],
    // Portkey reads `profile`, else `criteria` (the same format).
    params: withCredentials(
      { profile: profileParam.optional(), criteria: profileParam.optional(), timeout: timeoutParam(15_000) },
      PatronusCredentialsSchema,
      fromOptions,
      'Patronus credentials',
    ).refine((p) => p.profile !== undefined || p.criteria !== undefined, { message: 'profile is required', path: ['profile'] }),
    async run(input) {
      const output = input.response?.text ?? '';
      if (!output) return nothingToCheck(VENDOR);
      const chosen = input.params.profile ?? input.params.criteria;
      if (!chosen) throw new VendorError(`${VENDOR}: profile is required`);
      const { evaluator, criteria } = chosen;
      return verdictOf('patronus.custom', await evaluate(input as unknown as CheckInput<Base>, evaluator, criteria, input.request.text, output));
    },
  });
}

export function createPatronusChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [
    redacting('phi', credentials),
    redacting('pii', credentials),
    ...Object.entries(JUDGE_CRITERIA).map(([id, criteria]) => judged(id, 'judge', criteria, 15_000, credentials)),
    judged('retrievalAnswerRelevance', 'answer-relevance', undefined, 15_000, credentials),
    judged('retrievalHallucination', 'hallucination', 'patronus:hallucination', 15_000, credentials),
    judged('toxicity', 'toxicity', undefined, 5000, credentials),
    custom(credentials),
  ] as unknown as GuardrailCheck[];
}
