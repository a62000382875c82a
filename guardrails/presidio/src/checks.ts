/**
 * presidio.analyze and presidio.redact: Microsoft Presidio, self-hosted (its analyzer and anonymizer
 * REST services).
 *
 *   analyzer:   POST {analyzerURL}/analyze    {"text", "language", "entities"?, "score_threshold"?}
 *               → [{"entity_type", "start", "end", "score", ...}]
 *   anonymizer: POST {anonymizerURL}/anonymize {"text", "analyzer_results": [...], "anonymizers"?}
 *               → {"text", "items": [{"start", "end", "entity_type", "text", "operator"}]}
 *
 * analyze fails when an entity is found; redact (a mutator) passes and replaces the text with the
 * anonymizer's.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  VendorError,
  baseUrlParam,
  bearer,
  callVendor,
  isPlainObject,
  nothingToCheck,
  secretParam,
  textOf,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { Egress } from '@waygate/guardrail-vendor-kit';

const ANALYZER = 'Presidio analyzer';
const ANONYMIZER = 'Presidio anonymizer';

/** Where the services run (required: Presidio is self-hosted); `apiKey`, if set, is sent as a bearer token (a proxy in front). */
export const PresidioCredentialsSchema = z.strictObject({
  analyzerURL: baseUrlParam,
  anonymizerURL: baseUrlParam.optional(),
  apiKey: secretParam.optional(),
});
export type PresidioCredentials = z.output<typeof PresidioCredentialsSchema>;

export interface Entity {
  entity_type: string;
  start: number;
  end: number;
  score: number;
}

const analyzeParams = {
  language: z
    .string()
    .regex(/^[a-z]{2}(-[A-Za-z]{2})?$/, 'language is a code such as en')
    .default('en'),
  entities: z
    .array(z.string().regex(/^[A-Z0-9_]{1,64}$/, 'an entity is a Presidio entity type such as EMAIL_ADDRESS'))
    .min(1)
    .optional(),
  score_threshold: z.number().min(0).max(1).optional(),
  timeout: timeoutParam(5000),
};

const operator = z.strictObject({
  type: z.enum(['replace', 'redact', 'mask', 'hash', 'keep']),
  new_value: z.string().max(200).optional(),
  masking_char: z.string().length(1).optional(),
  chars_to_mask: z.number().int().min(0).optional(),
  from_end: z.boolean().optional(),
  hash_type: z.enum(['sha256', 'sha512']).optional(),
});

type Params = z.output<z.ZodObject<typeof analyzeParams>> & { credentials: PresidioCredentials };

async function analyze(input: { egress: Egress; signal: AbortSignal }, p: Params, text: string): Promise<Entity[]> {
  const a = await callVendor(input, {
    vendor: ANALYZER,
    url: `${p.credentials.analyzerURL}/analyze`,
    headers: p.credentials.apiKey ? bearer(p.credentials.apiKey) : {},
    body: {
      text,
      language: p.language,
      ...(p.entities ? { entities: p.entities } : {}),
      ...(p.score_threshold !== undefined ? { score_threshold: p.score_threshold } : {}),
    },
    timeout: p.timeout,
  });
  if (!Array.isArray(a)) throw new VendorError(`${ANALYZER} answered something that is not a list of results`);
  return a.map((e) => {
    if (
      !isPlainObject(e) ||
      typeof e.entity_type !== 'string' ||
      !Number.isInteger(e.start) ||
      !Number.isInteger(e.end) ||
      (e.start as number) < 0 ||
      (e.end as number) < (e.start as number) ||
      (e.end as number) > text.length ||
      typeof e.score !== 'number'
    )
      throw new VendorError(`${ANALYZER} answered a result without a valid entity_type, start, end and score`);
    return { entity_type: e.entity_type, start: e.start as number, end: e.end as number, score: e.score };
  });
}

function summary(entities: readonly Entity[]) {
  const counts: Record<string, number> = {};
  for (const e of entities) counts[e.entity_type] = (counts[e.entity_type] ?? 0) + 1;
  return counts;
}

export function analyzeCheck(fromOptions?: PresidioCredentials) {
  return defineCheck({
    id: 'analyze',
    params: withCredentials(analyzeParams, PresidioCredentialsSchema, fromOptions, 'Presidio endpoints'),
    async run(input) {
      const text = textOf(input);
      if (!text) return nothingToCheck(ANALYZER);
      const entities = await analyze(input, input.params, text);
      return {
        verdict: entities.length === 0,
        data: {
          explanation: entities.length ? `${entities.length} entit${entities.length === 1 ? 'y' : 'ies'} found.` : 'No entity found.',
          entities: summary(entities),
        },
      };
    },
  });
}

export function redactCheck(fromOptions?: PresidioCredentials) {
  return defineCheck({
    id: 'redact',
    mutates: true,
    params: withCredentials(
      { ...analyzeParams, anonymizers: z.record(z.string().regex(/^[A-Z0-9_]{1,64}$/), operator).optional() },
      PresidioCredentialsSchema,
      fromOptions,
      'Presidio endpoints',
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(ANALYZER);
      const entities = await analyze(input, p, text);
      if (entities.length === 0) return { verdict: true, data: { explanation: 'No entity found.', entities: {} } };
      const a = await callVendor(input, {
        vendor: ANONYMIZER,
        url: `${p.credentials.anonymizerURL ?? p.credentials.analyzerURL}/anonymize`,
        headers: p.credentials.apiKey ? bearer(p.credentials.apiKey) : {},
        body: { text, analyzer_results: entities, ...(p.anonymizers ? { anonymizers: p.anonymizers } : {}) },
        timeout: p.timeout,
      });
      if (!isPlainObject(a) || typeof a.text !== 'string') throw new VendorError(`${ANONYMIZER} answered without a text`);
      return {
        verdict: true,
        data: { explanation: `${entities.length} entit${entities.length === 1 ? 'y' : 'ies'} redacted.`, entities: summary(entities), redacted: true },
        transformedText: a.text,
      };
    },
  });
}

export function createPresidioChecks(credentials?: PresidioCredentials): GuardrailCheck[] {
  return [analyzeCheck(credentials), redactCheck(credentials)] as unknown as GuardrailCheck[];
}
