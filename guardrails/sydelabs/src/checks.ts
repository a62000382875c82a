/**
 * sydelabs.sydeguard: SydeLabs SydeGuard risk scores, with Portkey's id and parameters.
 *
 *   POST {baseURL:-https://guard.sydelabs.ai}/api/v1/guard/generate-score   x-api-key: <apiKey>   {"prompt": text}
 *   → {"id", "score", "overall_risk", "category_scores": [{"category": "PROMPT_INJECT" | "TOXIC" | "EVASION", "score", "risk"}]}
 *
 * Fails when a category's score is above its threshold.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  ApiKeyCredentialsSchema,
  VendorError,
  callVendor,
  isPlainObject,
  nothingToCheck,
  textOf,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'SydeGuard';

export const SydeLabsCredentialsSchema = ApiKeyCredentialsSchema;

const threshold = z.number().min(0).max(1).default(0.5);

export function sydeguard(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'sydeguard',
    params: withCredentials(
      { prompt_injection_threshold: threshold, toxicity_threshold: threshold, evasion_threshold: threshold, timeout: timeoutParam(5000) },
      SydeLabsCredentialsSchema,
      fromOptions,
      'SydeLabs credentials',
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.baseURL ?? 'https://guard.sydelabs.ai'}/api/v1/guard/generate-score`,
        headers: { 'x-api-key': p.credentials.apiKey },
        body: { prompt: text },
        timeout: p.timeout,
      });
      if (!isPlainObject(a) || !Array.isArray(a.category_scores)) throw new VendorError(`${VENDOR} answered without category_scores`);
      const scores: Record<string, number> = {};
      for (const c of a.category_scores) {
        if (!isPlainObject(c) || typeof c.category !== 'string' || typeof c.score !== 'number')
          throw new VendorError(`${VENDOR} answered a category score without category and score`);
        scores[c.category] = c.score;
      }
      const limits: Record<string, number> = { PROMPT_INJECT: p.prompt_injection_threshold, TOXIC: p.toxicity_threshold, EVASION: p.evasion_threshold };
      const over = Object.keys(limits).filter((k) => scores[k] !== undefined && (scores[k] as number) > (limits[k] as number));
      return {
        verdict: over.length === 0,
        data: {
          explanation: over.length ? `Above the threshold: ${over.join(', ')}.` : 'Every score is within its threshold.',
          over_threshold: over,
          scores,
          overall_risk: a.overall_risk,
        },
      };
    },
  });
}

export function createSydeLabsChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [sydeguard(credentials)] as unknown as GuardrailCheck[];
}
