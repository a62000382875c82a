/**
 * promptsecurity.protectPrompt and promptsecurity.protectResponse: Prompt Security's protect API,
 * with Portkey's ids and parameters.
 *
 *   POST https://{apiDomain}/api/protect   APP-ID: <apiKey>   {"prompt": text} | {"response": text}
 *   → {"status": "success", "result": {"prompt" | "response": {"passed"?: bool, "action": "pass" | "modify" | "block", "modified_text"?, "violations"?, ...}}}
 *
 * Passes when `passed` is true (what Portkey reads); an answer without `passed` is judged by
 * `action` (what Prompt Security's own client and LiteLLM's integration read): `block` fails.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckHook, GuardrailCheck } from '@waygate/guardrails';
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

const VENDOR = 'Prompt Security';

/** The actions Prompt Security answers. */
const ACTIONS = new Set(['pass', 'modify', 'block']);

/** Portkey's `apiKey` (the APP-ID) and `apiDomain` (e.g. `eu.prompt.security`); `baseURL` instead of `apiDomain` for another scheme or port. */
export const PromptSecurityCredentialsSchema = z
  .strictObject({
    apiKey: secretParam,
    apiDomain: dnsNameParam('apiDomain is a DNS name').optional(),
    baseURL: baseUrlParam.optional(),
  })
  .refine((c) => c.apiDomain !== undefined || c.baseURL !== undefined, { message: 'apiDomain is required', path: ['apiDomain'] });
export type PromptSecurityCredentials = z.output<typeof PromptSecurityCredentialsSchema>;

function protect(id: string, hook: CheckHook, field: 'prompt' | 'response', fromOptions?: PromptSecurityCredentials) {
  return defineCheck({
    id,
    hooks: [hook],
    params: withCredentials({ timeout: timeoutParam(5000) }, PromptSecurityCredentialsSchema, fromOptions, 'Prompt Security credentials'),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.baseURL ?? `https://${p.credentials.apiDomain}`}/api/protect`,
        headers: { 'app-id': p.credentials.apiKey },
        body: { [field]: text },
        timeout: p.timeout,
      });
      const r = isPlainObject(a) && isPlainObject(a.result) ? a.result[field] : undefined;
      if (!isPlainObject(r)) throw new VendorError(`${VENDOR} answered without result.${field}`);
      const action = typeof r.action === 'string' ? r.action : undefined;
      const passed = typeof r.passed === 'boolean' ? r.passed : action !== undefined && ACTIONS.has(action) ? action !== 'block' : undefined;
      if (passed === undefined) throw new VendorError(`${VENDOR} answered without result.${field}.passed or action`);
      return {
        verdict: passed,
        data: { explanation: passed ? 'Passed.' : `Not passed${action ? ` (action: ${action})` : ''}.`, ...r },
      };
    },
  });
}

export function createPromptSecurityChecks(credentials?: PromptSecurityCredentials): GuardrailCheck[] {
  return [
    protect('protectPrompt', 'beforeRequest', 'prompt', credentials),
    protect('protectResponse', 'afterResponse', 'response', credentials),
  ] as unknown as GuardrailCheck[];
}
