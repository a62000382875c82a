/**
 * pillar.scanPrompt and pillar.scanResponse: Pillar Security's scanners, with Portkey's ids and parameters.
 *
 *   POST {base:-https://api.pillarseclabs.com/api/v1}/scan/prompt | /scan/response   Authorization: Bearer <apiKey>
 *     {"message": text, "scanners": {<scanner>: true, ...}}
 *   → {"pii": bool | null, "prompt_injection": ..., "secrets": ..., "toxic_language": ..., "invisible_characters": ...}
 *
 * Fails when one of `scanners` answers something other than false or null.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckHook, GuardrailCheck } from '@waygate/guardrails';
import {
  ApiKeyCredentialsSchema,
  VendorError,
  bearer,
  callVendor,
  isPlainObject,
  nothingToCheck,
  textOf,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Pillar Security';

export const PillarCredentialsSchema = ApiKeyCredentialsSchema;

export const PROMPT_SCANNERS = ['prompt_injection', 'pii', 'secrets', 'toxic_language', 'invisible_characters'] as const;
export const RESPONSE_SCANNERS = ['pii', 'secrets', 'toxic_language'] as const;

function scan(id: string, hook: CheckHook, path: string, scanners: readonly [string, ...string[]], fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id,
    hooks: [hook],
    params: withCredentials(
      {
        scanners: z
          .array(z.enum(scanners))
          .min(1)
          .default([...scanners]),
        timeout: timeoutParam(5000),
      },
      PillarCredentialsSchema,
      fromOptions,
      'Pillar credentials',
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.baseURL ?? 'https://api.pillarseclabs.com/api/v1'}${path}`,
        headers: bearer(p.credentials.apiKey),
        body: { message: text, scanners: Object.fromEntries(p.scanners.map((s) => [s, true])) },
        timeout: p.timeout,
      });
      if (!isPlainObject(a)) throw new VendorError(`${VENDOR} answered something that is not an object`);
      if (!p.scanners.some((s) => s in a)) throw new VendorError(`${VENDOR} answered none of the scanners asked for`);
      const found = p.scanners.filter((s) => a[s] !== undefined && a[s] !== null && a[s] !== false);
      return {
        verdict: found.length === 0,
        data: { explanation: found.length ? `Found: ${found.join(', ')}.` : 'No scanner found anything.', found, result: a },
      };
    },
  });
}

export function createPillarChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [
    scan('scanPrompt', 'beforeRequest', '/scan/prompt', PROMPT_SCANNERS, credentials),
    scan('scanResponse', 'afterResponse', '/scan/response', RESPONSE_SCANNERS, credentials),
  ] as unknown as GuardrailCheck[];
}
