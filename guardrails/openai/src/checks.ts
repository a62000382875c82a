/**
 * openai.moderation (beyond Portkey): OpenAI's moderation endpoint.
 *
 *   POST {baseURL:-https://api.openai.com/v1}/moderations  {"model": "omni-moderation-latest", "input": "..."}
 *   → {"id", "model", "results": [{"flagged", "categories": {...}, "category_scores": {...}}]}
 *
 * Fails when OpenAI flags the text, or, with `categories`, when one of those is flagged, or with
 * `threshold`, when one of the (selected) categories scores at or above it.
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

const VENDOR = 'OpenAI moderation';

export const OpenAICredentialsSchema = z.strictObject({
  apiKey: secretParam,
  baseURL: baseUrlParam.optional(),
  organization: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'organization is an id such as org-abc')
    .optional(),
  project: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'project is an id such as proj_abc')
    .optional(),
});
export type OpenAICredentials = z.output<typeof OpenAICredentialsSchema>;

/** OpenAI's moderation categories (omni-moderation-latest). */
export const OPENAI_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

export function moderation(fromOptions?: OpenAICredentials) {
  return defineCheck({
    id: 'moderation',
    params: withCredentials(
      {
        model: z.string().min(1).default('omni-moderation-latest'),
        categories: z.array(z.enum(OPENAI_CATEGORIES)).min(1).optional(),
        threshold: z.number().min(0).max(1).optional(),
        timeout: timeoutParam(5000),
      },
      OpenAICredentialsSchema,
      fromOptions,
      'OpenAI credentials',
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const c = p.credentials;
      const headers = {
        ...bearer(c.apiKey),
        ...(c.organization ? { 'openai-organization': c.organization } : {}),
        ...(c.project ? { 'openai-project': c.project } : {}),
      };
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${c.baseURL ?? 'https://api.openai.com/v1'}/moderations`,
        headers,
        body: { model: p.model, input: text },
        timeout: p.timeout,
      });
      const r = isPlainObject(a) && Array.isArray(a.results) ? a.results[0] : undefined;
      if (!isPlainObject(r) || typeof r.flagged !== 'boolean' || !isPlainObject(r.categories))
        throw new VendorError(`${VENDOR} answered without results[0].flagged and categories`);
      const cats = r.categories as Record<string, unknown>;
      const scores = isPlainObject(r.category_scores) ? (r.category_scores as Record<string, unknown>) : {};
      const considered = p.categories ?? Object.keys(cats);
      const flagged = considered.filter(
        (k) => cats[k] === true || (p.threshold !== undefined && typeof scores[k] === 'number' && scores[k] >= p.threshold),
      );
      const verdict = p.categories === undefined && p.threshold === undefined ? !r.flagged : flagged.length === 0;
      const flaggedCategories = p.categories === undefined && p.threshold === undefined && r.flagged && flagged.length === 0 ? ['(flagged)'] : flagged;
      return {
        verdict,
        data: {
          explanation: verdict ? 'Not flagged.' : `Flagged: ${flaggedCategories.join(', ')}.`,
          flagged: !verdict,
          flaggedCategories: verdict ? [] : flaggedCategories,
          categoryScores: Object.fromEntries(considered.filter((k) => typeof scores[k] === 'number').map((k) => [k, scores[k]])),
          model: a && isPlainObject(a) ? a.model : undefined,
        },
      };
    },
  });
}

export function createOpenAIChecks(credentials?: OpenAICredentials): GuardrailCheck[] {
  return [moderation(credentials)] as unknown as GuardrailCheck[];
}
