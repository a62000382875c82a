/**
 * acuvity.scan: Acuvity's scan API, with Portkey's id and parameters.
 *
 *   POST {apex}/_acuvity/scan   Authorization: Bearer <apiKey>
 *     {"anonymization": "FixedSize", "messages": [text], "redactions": [category, ...], "type": "Input" | "Output"}
 *   → {"extractions": [{"data", "exploits"?: {prompt_injection, jailbreak, malicious_url}, "malcontents"?: {toxic, biased, harmful},
 *                       "languages"?: {<name>: score}, "PIIs"?: {<category>: score}, "secrets"?: {<category>: score},
 *                       "detections"?: [{"type": "PII" | "Secret" | ..., "name", "score", ...}]}]}
 *
 * (Acuvity's OpenAPI as generated into its SDKs, acuvity/acuvity-ts `Scanrequest` and `Extraction`:
 * the PII map is `PIIs` on the wire, which the SDK renames `piIs`.)
 *
 * `{apex}` is the `apex-url` in the API key's JWT claims (`opaque`), unless `credentials.baseURL` is set.
 * Fails when an enabled guard matches; PII or secrets that are redacted do not fail it, and the
 * redacted text (the extraction's `data`) replaces the original.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  ApiKeyCredentialsSchema,
  VendorError,
  baseUrlParam,
  bearer,
  callVendor,
  isPlainObject,
  nothingToCheck,
  textOf,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Acuvity';

export const AcuvityCredentialsSchema = ApiKeyCredentialsSchema;

/** The `apex-url` claim of an Acuvity token (its payload is read, not verified: it only says where to send the token). */
export function apexUrl(token: string): string | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    const apex = isPlainObject(claims.opaque) ? claims.opaque['apex-url'] : undefined;
    if (typeof apex !== 'string') return undefined;
    const r = baseUrlParam.safeParse(apex);
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

const on = z.boolean().default(true);
const threshold = z.number().min(0).max(1).default(0.5);
const categories = z
  .array(z.string().regex(/^[a-z0-9_]{1,64}$/, 'a category is lower-case letters, digits and _'))
  .max(200)
  .optional();

/** Score-guards: parameter name → [where in the extraction, key]. */
const SCORED = {
  prompt_injection: ['exploits', 'prompt_injection'],
  jail_break: ['exploits', 'jailbreak'],
  malicious_url: ['exploits', 'malicious_url'],
  toxic: ['malcontents', 'toxic'],
  biased: ['malcontents', 'biased'],
  harmful: ['malcontents', 'harmful'],
} as const;

function score(x: Record<string, unknown>, where: string, key: string): number | undefined {
  const m = x[where];
  return isPlainObject(m) && typeof m[key] === 'number' ? m[key] : undefined;
}

/** Categories found in the extraction's map (`PIIs` or `secrets`) or among its detections of that type (`PII` or `Secret`). */
function foundCategories(x: Record<string, unknown>, where: 'PIIs' | 'secrets', type: 'PII' | 'Secret', wanted: readonly string[]): string[] {
  const lookup = isPlainObject(x[where]) ? (x[where] as Record<string, unknown>) : {};
  const detected = Array.isArray(x.detections)
    ? x.detections
        .filter(isPlainObject)
        .filter((d) => d.type === type)
        .map((d) => d.name)
    : [];
  return wanted.filter((c) => c in lookup || detected.includes(c));
}

export function scan(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'scan',
    mutates: true,
    params: withCredentials(
      {
        prompt_injection: on,
        prompt_injection_threshold: threshold,
        toxic: on,
        toxic_threshold: threshold,
        jail_break: on,
        jail_break_threshold: threshold,
        malicious_url: on,
        malicious_url_threshold: threshold,
        biased: on,
        biased_threshold: threshold,
        harmful: on,
        harmful_threshold: threshold,
        language: on,
        language_values: z
          .string()
          .regex(/^[a-z_]{1,64}$/)
          .default('english'),
        pii: on,
        pii_redact: z.boolean().default(false),
        pii_categories: categories,
        secrets: on,
        secrets_redact: z.boolean().default(false),
        secrets_categories: categories,
        timeout: timeoutParam(5000),
      },
      AcuvityCredentialsSchema,
      fromOptions,
      'Acuvity credentials',
    ),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const base = p.credentials.baseURL ?? apexUrl(p.credentials.apiKey);
      if (!base) throw new VendorError(`${VENDOR}: the API key names no apex-url and credentials.baseURL is not set`);
      const redactPii = p.pii && p.pii_redact && p.pii_categories ? p.pii_categories : [];
      const redactSecrets = p.secrets && p.secrets_redact && p.secrets_categories ? p.secrets_categories : [];
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${base}/_acuvity/scan`,
        headers: bearer(p.credentials.apiKey),
        body: {
          anonymization: 'FixedSize',
          messages: [text],
          redactions: [...redactPii, ...redactSecrets],
          type: input.hook === 'beforeRequest' ? 'Input' : 'Output',
        },
        timeout: p.timeout,
      });
      const x = isPlainObject(a) && Array.isArray(a.extractions) ? a.extractions[0] : undefined;
      if (!isPlainObject(x)) throw new VendorError(`${VENDOR} answered without extractions[0]`);
      const failed: string[] = [];
      for (const [name, [where, key]] of Object.entries(SCORED)) {
        const s = score(x, where, key);
        if (p[name as keyof typeof SCORED] && s !== undefined && s >= p[`${name}_threshold` as `${keyof typeof SCORED}_threshold`]) failed.push(name);
      }
      if (p.language) {
        const s = score(x, 'languages', p.language_values);
        if (s !== undefined && s >= 0.5) failed.push('language');
      }
      const pii = p.pii && p.pii_categories ? foundCategories(x, 'PIIs', 'PII', p.pii_categories) : [];
      const secrets = p.secrets && p.secrets_categories ? foundCategories(x, 'secrets', 'Secret', p.secrets_categories) : [];
      const redacted = (pii.length > 0 && redactPii.length > 0) || (secrets.length > 0 && redactSecrets.length > 0);
      if (pii.length && !redactPii.length) failed.push('pii');
      if (secrets.length && !redactSecrets.length) failed.push('secrets');
      if (redacted && typeof x.data !== 'string') throw new VendorError(`${VENDOR} redacted without the redacted data`);
      return {
        verdict: failed.length === 0,
        data: {
          explanation: failed.length ? `Matched: ${failed.join(', ')}.` : redacted ? 'Redacted.' : 'No guard matched.',
          matched: failed,
          pii_found: pii,
          secrets_found: secrets,
          ...(redacted ? { redacted: true } : {}),
        },
        ...(redacted ? { transformedText: x.data as string } : {}),
      };
    },
  });
}

export function createAcuvityChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [scan(credentials)] as unknown as GuardrailCheck[];
}
