/**
 * pangea.textGuard and pangea.pii: Pangea AI Guard and Redact, with Portkey's ids and parameters.
 *
 *   textGuard: POST https://ai-guard.{domain}/v1/text/guard  {"text", "recipe"?, "debug"?, "overrides"?}
 *              → {"status": "Success", "summary", "result": {"detectors": {<name>: {"detected": bool, ...}}, "blocked"?, ...}}
 *   pii:       POST https://redact.{domain}/v1/redact        {"text"}
 *              → {"status": "Success", "summary", "result": {"redacted_text", "count"}}
 *
 * `credentials.baseURL` replaces `https://<service>.{domain}` (a private or self-hosted deployment).
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckInput, GuardrailCheck } from '@waygate/guardrails';
import {
  VendorError,
  baseUrlParam,
  dnsNameParam,
  bearer,
  callVendor,
  isPlainObject,
  nothingToCheck,
  secretParam,
  textOf,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';

const GUARD = 'Pangea AI Guard';
const REDACT = 'Pangea Redact';

/** Portkey's credentials: `apiKey` and `domain` (e.g. `aws.us.pangea.cloud`); `baseURL` instead of `domain` for a private endpoint. */
export const PangeaCredentialsSchema = z
  .strictObject({
    apiKey: secretParam,
    domain: dnsNameParam('domain is a DNS name such as aws.us.pangea.cloud').optional(),
    baseURL: baseUrlParam.optional(),
  })
  .refine((c) => c.domain !== undefined || c.baseURL !== undefined, { message: 'domain is required', path: ['domain'] });
export type PangeaCredentials = z.output<typeof PangeaCredentialsSchema>;

/** The detectors whose detection fails textGuard (Portkey's list). */
export const BLOCKING_DETECTORS = [
  'prompt_injection',
  'pii_entity',
  'malicious_entity',
  'custom_entity',
  'secrets_detection',
  'profanity_and_toxicity',
] as const;

function base(c: PangeaCredentials, service: string): string {
  return c.baseURL ?? `https://${service}.${c.domain}`;
}

/** Pangea's envelope: `status` must be `Success`, `result` an object. */
function resultOf(a: unknown, vendor: string): Record<string, unknown> {
  if (!isPlainObject(a)) throw new VendorError(`${vendor} answered something that is not an object`);
  if (a.status !== 'Success') {
    const summary = typeof a.summary === 'string' ? `: ${a.summary.slice(0, 200)}` : '';
    throw new VendorError(`${vendor} answered status ${JSON.stringify(a.status)}${summary}`);
  }
  if (!isPlainObject(a.result)) throw new VendorError(`${vendor} answered without a result`);
  return a.result;
}

export function textGuard(fromOptions?: PangeaCredentials) {
  return defineCheck({
    id: 'textGuard',
    params: withCredentials(
      {
        recipe: z.string().max(256).optional(),
        debug: z.boolean().optional(),
        overrides: z.record(z.string(), z.unknown()).optional(),
        timeout: timeoutParam(5000),
      },
      PangeaCredentialsSchema,
      fromOptions,
      'Pangea credentials',
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(GUARD);
      const body = {
        text,
        ...(p.recipe ? { recipe: p.recipe } : {}),
        ...(p.debug !== undefined ? { debug: p.debug } : {}),
        ...(p.overrides ? { overrides: p.overrides } : {}),
      };
      const a = await callVendor(input, {
        vendor: GUARD,
        url: `${base(p.credentials, 'ai-guard')}/v1/text/guard`,
        headers: bearer(p.credentials.apiKey),
        body,
        timeout: p.timeout,
      });
      const result = resultOf(a, GUARD);
      if (result.detectors !== undefined && !isPlainObject(result.detectors)) throw new VendorError(`${GUARD} answered detectors that are not an object`);
      const detectors = (result.detectors ?? {}) as Record<string, unknown>;
      const detected = BLOCKING_DETECTORS.filter((d) => isPlainObject(detectors[d]) && detectors[d].detected === true);
      const blocked = result.blocked === true;
      const pass = detected.length === 0 && !blocked;
      return {
        verdict: pass,
        data: {
          explanation: pass ? 'No detector fired.' : `Detected: ${detected.length ? detected.join(', ') : 'blocked by the recipe'}.`,
          detected,
          blocked,
          summary: typeof (a as Record<string, unknown>).summary === 'string' ? (a as Record<string, unknown>).summary : undefined,
        },
      };
    },
  });
}

export function pii(fromOptions?: PangeaCredentials) {
  return defineCheck({
    id: 'pii',
    mutates: true,
    params: withCredentials(
      { redact: z.boolean().default(false), timeout: timeoutParam(5000) },
      PangeaCredentialsSchema,
      fromOptions,
      'Pangea credentials',
    ),
    async run(input: CheckInput<{ redact: boolean; timeout: number; credentials: PangeaCredentials }>) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(REDACT);
      const a = await callVendor(input, {
        vendor: REDACT,
        url: `${base(p.credentials, 'redact')}/v1/redact`,
        headers: bearer(p.credentials.apiKey),
        body: { text },
        timeout: p.timeout,
      });
      const result = resultOf(a, REDACT);
      if (typeof result.count !== 'number') throw new VendorError(`${REDACT} answered without a numeric count`);
      const found = result.count > 0;
      const explanation = found ? `${result.count} PII item${result.count === 1 ? '' : 's'} found.` : 'No PII found.';
      if (found && p.redact) {
        if (typeof result.redacted_text !== 'string') throw new VendorError(`${REDACT} answered without redacted_text`);
        return {
          verdict: true,
          data: { explanation: `${explanation} Redacted.`, count: result.count, redacted: true },
          transformedText: result.redacted_text,
        };
      }
      return { verdict: !found, data: { explanation, count: result.count } };
    },
  });
}

export function createPangeaChecks(credentials?: PangeaCredentials): GuardrailCheck[] {
  return [textGuard(credentials), pii(credentials)] as unknown as GuardrailCheck[];
}
