/**
 * lakera.guard (beyond Portkey): Lakera Guard v2.
 *
 *   POST {baseURL:-https://api.lakera.ai}/v2/guard  {"messages": [{role, content}], "project_id"?, "breakdown": true}
 *   → {"flagged": bool, "breakdown"?: [{"detector_type", "detected", ...}], "metadata": {"request_uuid"}}
 *
 * Fails when Lakera flags the conversation (the policy of `project_id`, or Lakera's default).
 *
 * Wire format verified against Lakera's reference (docs.lakera.ai/api-reference/api/endpoints/guard/screen-content):
 * Bearer auth; `messages` of role user|assistant|system; `project_id`, `breakdown`; the answer's
 * `flagged`, `breakdown[].detector_type|detected`, `metadata.request_uuid`. Portkey's `plugins/lakera`
 * names the parameters `projectID`, `endInclusive`, `timeout` and the credentials `apiKey`, `apiBase`:
 * those names are taken (with this package's earlier `projectId` and `baseURL`).
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
  messagesOf,
  nothingToCheck,
  secretParam,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Lakera Guard';

/**
 * Portkey's `apiKey` and `apiBase` (a host such as `https://api.lakera.ai`; a pasted `/v2/guard` is
 * dropped, as Portkey does), or `baseURL` (this package's earlier name); not both.
 */
export const LakeraCredentialsSchema = z
  .strictObject({ apiKey: secretParam, apiBase: z.string().optional(), baseURL: z.string().optional() })
  .transform((c, ctx) => {
    if (c.apiBase !== undefined && c.baseURL !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set apiBase or baseURL, not both', path: ['apiBase'] });
      return z.NEVER;
    }
    const raw = c.apiBase ?? c.baseURL;
    if (raw === undefined) return { apiKey: c.apiKey };
    const r = baseUrlParam.safeParse(
      raw
        .trim()
        .replace(/\/+$/, '')
        .replace(/\/v2\/guard$/i, ''),
    );
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ ...i, path: [c.apiBase !== undefined ? 'apiBase' : 'baseURL'] } as never);
      return z.NEVER;
    }
    return { apiKey: c.apiKey, baseURL: r.data };
  });
export type LakeraCredentials = z.input<typeof LakeraCredentialsSchema>;

const projectIdParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'is a Lakera project id')
  .optional();

export function guard(fromOptions?: LakeraCredentials) {
  const options = fromOptions === undefined ? undefined : LakeraCredentialsSchema.parse(fromOptions);
  return defineCheck({
    id: 'guard',
    params: withCredentials(
      {
        /** Portkey's name. */
        projectID: projectIdParam,
        /** This package's earlier name for `projectID`. */
        projectId: projectIdParam,
        /** Portkey's: whether Lakera's payload end offsets are inclusive. It only matters for redaction, which this check does not do (it blocks). */
        endInclusive: z.boolean().optional(),
        timeout: timeoutParam(5000),
      },
      LakeraCredentialsSchema,
      options,
      'Lakera credentials',
    ).superRefine((p, ctx) => {
      if (p.projectID !== undefined && p.projectId !== undefined && p.projectID !== p.projectId)
        ctx.addIssue({ code: 'custom', message: 'set projectID or projectId, not both', path: ['projectID'] });
    }),
    async run(input) {
      const p = input.params;
      const projectId = p.projectID ?? p.projectId;
      const messages = messagesOf(input.request.json)
        .filter((m) => (m.role === 'system' || m.role === 'user' || m.role === 'assistant') && m.text.length > 0)
        .map((m) => ({ role: m.role, content: m.text }));
      if (messages.length === 0 && input.request.text) messages.push({ role: 'user', content: input.request.text });
      if (input.hook === 'afterResponse' && input.response?.text) messages.push({ role: 'assistant', content: input.response.text });
      if (messages.length === 0) return nothingToCheck(VENDOR);
      const body = { messages, breakdown: true, ...(projectId ? { project_id: projectId } : {}) };
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.baseURL ?? 'https://api.lakera.ai'}/v2/guard`,
        headers: bearer(p.credentials.apiKey),
        body,
        timeout: p.timeout,
      });
      if (!isPlainObject(a) || typeof a.flagged !== 'boolean') throw new VendorError(`${VENDOR} answered without a boolean "flagged"`);
      const detectors = Array.isArray(a.breakdown)
        ? a.breakdown.filter((b) => isPlainObject(b) && b.detected === true).map((b) => (b as Record<string, unknown>).detector_type)
        : [];
      return {
        verdict: !a.flagged,
        data: {
          explanation: a.flagged ? `Flagged${detectors.length ? `: ${detectors.join(', ')}` : ''}.` : 'Not flagged.',
          flagged: a.flagged,
          detectors,
          requestUuid: isPlainObject(a.metadata) ? a.metadata.request_uuid : undefined,
        },
      };
    },
  });
}

export function createLakeraChecks(credentials?: LakeraCredentials): GuardrailCheck[] {
  return [guard(credentials)] as unknown as GuardrailCheck[];
}
