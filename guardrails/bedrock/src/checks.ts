/**
 * bedrock.guard: Amazon Bedrock Guardrails' ApplyGuardrail API, with Portkey's id and parameters.
 *
 *   POST https://bedrock-runtime.{region}.amazonaws.com/guardrail/{guardrailId}/version/{guardrailVersion}/apply
 *   {"source": "INPUT" | "OUTPUT", "content": [{"text": {"text": "..."}}]}
 *
 * signed with SigV4 (service `bedrock`, the signer of @waygate/provider-bedrock). The answer's
 * `action` is `GUARDRAIL_INTERVENED` or `NONE`; `assessments[0]` holds what each policy found.
 * Verified against the ApplyGuardrail API reference (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ApplyGuardrail.html).
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import { signV4 } from '@waygate/provider-bedrock';
import {
  VendorError,
  baseUrlParam,
  callVendor,
  chooseCredentials,
  isPlainObject,
  nothingToCheck,
  secretParam,
  textOf,
  timeoutParam,
} from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Amazon Bedrock Guardrails';

/** AWS credentials under Portkey's names: its code's (`awsAccessKeyId`, ...) and its manifest's (`accessKeyId`, `accessKeySecret`, `region`). */
export const BedrockCredentialsSchema = z
  .strictObject({
    awsAuthType: z.literal('accessKey').optional(),
    awsAccessKeyId: secretParam.optional(),
    awsSecretAccessKey: secretParam.optional(),
    awsSessionToken: secretParam.optional(),
    awsRegion: z.string().optional(),
    accessKeyId: secretParam.optional(),
    accessKeySecret: secretParam.optional(),
    region: z.string().optional(),
    /** A VPC endpoint or other base URL instead of `https://bedrock-runtime.{region}.amazonaws.com`. */
    baseURL: baseUrlParam.optional(),
  })
  .transform((c, ctx) => {
    const accessKeyId = c.awsAccessKeyId ?? c.accessKeyId;
    const secretAccessKey = c.awsSecretAccessKey ?? c.accessKeySecret;
    const region = c.awsRegion ?? c.region;
    if (!accessKeyId) ctx.addIssue({ code: 'custom', path: ['awsAccessKeyId'], message: 'awsAccessKeyId (or accessKeyId) is required' });
    if (!secretAccessKey) ctx.addIssue({ code: 'custom', path: ['awsSecretAccessKey'], message: 'awsSecretAccessKey (or accessKeySecret) is required' });
    if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
      ctx.addIssue({ code: 'custom', path: ['awsRegion'], message: 'awsRegion (or region) is an AWS region such as us-east-1' });
    if (!accessKeyId || !secretAccessKey || !region) return z.NEVER;
    return { accessKeyId, secretAccessKey, sessionToken: c.awsSessionToken, region, baseURL: c.baseURL };
  });
export type BedrockCredentials = z.output<typeof BedrockCredentialsSchema>;

export interface BedrockOptions {
  credentials?: BedrockCredentials;
  /** The signing clock (tests). */
  now?: () => number;
}

interface Finding {
  policy: string;
  type?: unknown;
  action: string;
  /** The matched text (kept out of `data`; used to mask when the guardrail blocks PII rather than anonymizing it). */
  match?: string;
  name?: unknown;
}

/** Every entry of every policy of an assessment that did something (action other than NONE). */
function findings(assessment: Record<string, unknown>): Finding[] {
  const out: Finding[] = [];
  for (const [policy, value] of Object.entries(assessment)) {
    if (!isPlainObject(value)) continue;
    for (const list of Object.values(value)) {
      if (!Array.isArray(list)) continue;
      for (const e of list) {
        if (!isPlainObject(e) || typeof e.action !== 'string' || e.action === 'NONE') continue;
        if (e.detected === false) continue;
        out.push({ policy, type: e.type, action: e.action, match: typeof e.match === 'string' ? e.match : undefined, name: e.name });
      }
    }
  }
  return out;
}

export function guard(options: BedrockOptions = {}) {
  const now = options.now ?? Date.now;
  return defineCheck({
    id: 'guard',
    mutates: true,
    params: z
      .strictObject({
        /** ApplyGuardrail's `guardrailIdentifier` pattern: an id (`[a-z0-9]+`) or a guardrail ARN. */
        guardrailId: z
          .string()
          .max(2048)
          .regex(
            /^([a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]+)$/,
            'guardrailId is a guardrail id (lowercase letters and digits) or a guardrail ARN',
          ),
        guardrailVersion: z.union([
          z.string().regex(/^(DRAFT|[1-9][0-9]{0,7})$/, 'guardrailVersion is DRAFT or a version number'),
          z.number().int().min(1).transform(String),
        ]),
        redact: z.boolean().default(false),
        timeout: timeoutParam(5000),
        credentials: z.unknown().optional(),
      })
      .transform((p, ctx) => {
        let fromConfig: BedrockCredentials | undefined;
        if (p.credentials !== undefined) {
          const r = BedrockCredentialsSchema.safeParse(p.credentials);
          if (!r.success) {
            for (const i of r.error.issues) ctx.addIssue({ ...i, path: ['credentials', ...i.path] } as Parameters<typeof ctx.addIssue>[0]);
            return z.NEVER;
          }
          fromConfig = r.data;
        }
        const credentials = chooseCredentials(fromConfig, options.credentials, ctx, 'AWS credentials');
        if (!credentials) return z.NEVER;
        return { ...p, credentials };
      }),
    async run(input) {
      const p = input.params;
      const text = textOf(input);
      if (!text) return nothingToCheck(VENDOR);
      const c = p.credentials;
      const base = c.baseURL ?? `https://bedrock-runtime.${c.region}.amazonaws.com`;
      const url = `${base}/guardrail/${encodeURIComponent(p.guardrailId)}/version/${encodeURIComponent(p.guardrailVersion)}/apply`;
      const body = JSON.stringify({ source: input.hook === 'beforeRequest' ? 'INPUT' : 'OUTPUT', content: [{ text: { text } }] });
      const signed = signV4({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
        region: c.region,
        service: 'bedrock',
        date: now(),
      });
      const a = await callVendor(input, { vendor: VENDOR, url, headers: signed.headers, body, timeout: p.timeout });
      if (!isPlainObject(a) || (a.action !== 'NONE' && a.action !== 'GUARDRAIL_INTERVENED')) throw new VendorError(`${VENDOR} answered without an action`);
      const assessment = Array.isArray(a.assessments) && isPlainObject(a.assessments[0]) ? a.assessments[0] : {};
      const found = findings(assessment);
      const policies = [...new Set(found.map((f) => f.policy))];
      const data = {
        action: a.action,
        ...(typeof a.actionReason === 'string' ? { actionReason: a.actionReason } : {}),
        policies,
        findings: found.map((f) => ({ policy: f.policy, action: f.action, ...(f.type !== undefined ? { type: f.type } : { name: f.name }) })),
      };
      if (a.action === 'NONE') return { verdict: true, data: { explanation: 'The guardrail did not intervene.', ...data } };
      const piiOnly = policies.length > 0 && policies.every((x) => x === 'sensitiveInformationPolicy');
      if (p.redact && piiOnly) {
        const masked = maskedText(text, a, found);
        return {
          verdict: true,
          data: { explanation: 'The guardrail found sensitive information; redacted.', ...data, redacted: true },
          transformedText: masked,
        };
      }
      return { verdict: false, data: { explanation: `The guardrail intervened${policies.length ? ` (${policies.join(', ')})` : ''}.`, ...data } };
    },
  });
}

/** The guardrail's own output when it anonymized; else every match replaced by `{TYPE}` (or `{name}` for its regexes), as Portkey masks. */
function maskedText(text: string, answer: Record<string, unknown>, found: Finding[]): string {
  const outputs = Array.isArray(answer.outputs) ? answer.outputs : Array.isArray(answer.output) ? answer.output : [];
  const first = outputs[0];
  if (found.some((f) => f.action === 'ANONYMIZED') && isPlainObject(first) && typeof first.text === 'string') return first.text;
  let out = text;
  for (const f of found) if (f.match) out = out.split(f.match).join(`{${String(f.type ?? f.name ?? 'REDACTED')}}`);
  return out;
}

export function createBedrockChecks(options: BedrockOptions = {}): GuardrailCheck[] {
  return [guard(options)] as unknown as GuardrailCheck[];
}
