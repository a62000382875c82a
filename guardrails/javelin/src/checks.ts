/**
 * javelin.guardrails: Javelin's guardrails, with Portkey's id and parameters.
 *
 *   POST https://{domain:-api-dev.javelin.live}/v1/guardrails/apply
 *     x-javelin-apikey: <apiKey>, x-javelin-application: <application>
 *     {"input": {"text"}, "config": {}, "metadata": {}}
 *   → {"assessments": [{<type>: {"request_reject": bool, "results"?: {"reject_prompt"?, "categories"?, ...}, ...}}]}
 *
 * Fails when an assessment has `request_reject: true`.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  VendorError,
  baseUrlParam,
  dnsNameParam,
  callVendor,
  isPlainObject,
  nothingToCheck,
  secretParam,
  textOf,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Javelin';

const headerValue = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e][\x20-\x7e]*$/, 'must be printable ASCII without line breaks');

/** Portkey's `apiKey`, `application` and `domain` (a scheme in it is dropped, as in Portkey); `baseURL` instead of `domain`. */
export const JavelinCredentialsSchema = z.strictObject({
  apiKey: secretParam,
  application: headerValue,
  domain: z
    .string()
    .transform((d) => d.replace(/^https?:\/\//, '').replace(/\/+$/, ''))
    .pipe(dnsNameParam('domain is a DNS name'))
    .optional(),
  baseURL: baseUrlParam.optional(),
});
export type JavelinCredentials = z.output<typeof JavelinCredentialsSchema>;

export function guardrails(fromOptions?: JavelinCredentials) {
  return defineCheck({
    id: 'guardrails',
    params: withCredentials({ timeout: timeoutParam(5000) }, JavelinCredentialsSchema, fromOptions, 'Javelin credentials'),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.baseURL ?? `https://${p.credentials.domain ?? 'api-dev.javelin.live'}`}/v1/guardrails/apply`,
        headers: { 'x-javelin-apikey': p.credentials.apiKey, 'x-javelin-application': p.credentials.application },
        body: { input: { text }, config: {}, metadata: {} },
        timeout: p.timeout,
      });
      if (!isPlainObject(a) || !Array.isArray(a.assessments) || a.assessments.length === 0)
        throw new VendorError(`${VENDOR} answered without assessments`);
      const rejected: string[] = [];
      let rejectPrompt: string | undefined;
      for (const assessment of a.assessments) {
        if (!isPlainObject(assessment)) throw new VendorError(`${VENDOR} answered an assessment that is not an object`);
        for (const [type, v] of Object.entries(assessment)) {
          if (!isPlainObject(v) || v.request_reject !== true) continue;
          rejected.push(type);
          const rp = isPlainObject(v.results) ? v.results.reject_prompt : undefined;
          if (rejectPrompt === undefined && typeof rp === 'string') rejectPrompt = rp;
        }
      }
      return {
        verdict: rejected.length === 0,
        data: {
          explanation: rejected.length ? `Rejected by: ${rejected.join(', ')}.` : 'Every assessment passed.',
          rejected,
          ...(rejectPrompt !== undefined ? { reject_prompt: rejectPrompt } : {}),
          assessments: a.assessments,
        },
      };
    },
  });
}

export function createJavelinChecks(credentials?: JavelinCredentials): GuardrailCheck[] {
  return [guardrails(credentials)] as unknown as GuardrailCheck[];
}
