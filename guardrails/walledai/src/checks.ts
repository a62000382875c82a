/**
 * walledai.walledprotect: Walled AI's WalledProtect, with Portkey's id and parameters.
 *
 *   POST {baseURL:-https://services.walled.ai}/v1/walled-protect   x-api-key: <apiKey>
 *     {"text", "generic_safety_check", "greetings_list", "pii_list", "compliance_list"}
 *   → {"data": {"safety": [{"safety", "isSafe": bool, "score"?}], "pii"?, "compliance"?, "greetings"?}}
 *
 * Fails when `data.safety[0].isSafe` is false.
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

const VENDOR = 'Walled AI';

export const WalledAiCredentialsSchema = ApiKeyCredentialsSchema;

export const DEFAULT_PII_LIST = ["Person's Name", 'Address', 'Email Id', 'Contact No', 'Date Of Birth', 'Unique Id', 'Financial Data'];
export const DEFAULT_GREETINGS_LIST = ['Casual & Friendly'];

const names = z.array(z.string().min(1).max(200)).max(100);

export function walledprotect(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'walledprotect',
    params: withCredentials(
      {
        // Portkey's manifest types it as a string: "true"/"false" are accepted too.
        generic_safety_check: z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]).default(true),
        greetings_list: names.default(DEFAULT_GREETINGS_LIST),
        pii_list: names.default(DEFAULT_PII_LIST),
        compliance_list: names.default([]),
        timeout: timeoutParam(5000),
      },
      WalledAiCredentialsSchema,
      fromOptions,
      'Walled AI credentials',
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input).trim();
      if (!text) return nothingToCheck(VENDOR);
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.baseURL ?? 'https://services.walled.ai'}/v1/walled-protect`,
        headers: { 'x-api-key': p.credentials.apiKey },
        body: {
          text,
          generic_safety_check: p.generic_safety_check,
          greetings_list: p.greetings_list,
          pii_list: p.pii_list,
          compliance_list: p.compliance_list,
        },
        timeout: p.timeout,
      });
      const data = isPlainObject(a) ? a.data : undefined;
      const first = isPlainObject(data) && Array.isArray(data.safety) ? data.safety[0] : undefined;
      if (!isPlainObject(first) || typeof first.isSafe !== 'boolean') throw new VendorError(`${VENDOR} answered without data.safety[0].isSafe`);
      const d = data as Record<string, unknown>;
      return {
        verdict: first.isSafe,
        data: {
          explanation: first.isSafe ? 'Safe.' : `Unsafe${typeof first.safety === 'string' ? ` (${first.safety})` : ''}.`,
          safety: d.safety,
          ...(d.pii !== undefined ? { pii: d.pii } : {}),
          ...(d.compliance !== undefined ? { compliance: d.compliance } : {}),
          ...(d.greetings !== undefined ? { greetings: d.greetings } : {}),
        },
      };
    },
  });
}

export function createWalledAiChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [walledprotect(credentials)] as unknown as GuardrailCheck[];
}
