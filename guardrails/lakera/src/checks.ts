/**
 * lakera.guard (beyond Portkey): Lakera Guard v2.
 *
 *   POST {baseURL:-https://api.lakera.ai}/v2/guard  {"messages": [{role, content}], "project_id"?, "breakdown": true}
 *   → {"flagged": bool, "breakdown"?: [{"detector_type", "detected", ...}], "metadata": {"request_uuid"}}
 *
 * Fails when Lakera flags the conversation (the policy of `project_id`, or Lakera's default).
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  ApiKeyCredentialsSchema,
  VendorError,
  bearer,
  callVendor,
  isPlainObject,
  messagesOf,
  nothingToCheck,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Lakera Guard';

export function guard(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'guard',
    params: withCredentials(
      {
        projectId: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,128}$/, 'projectId is a Lakera project id')
          .optional(),
        timeout: timeoutParam(5000),
      },
      ApiKeyCredentialsSchema,
      fromOptions,
      'Lakera credentials',
    ),
    async run(input) {
      const p = input.params;
      const messages = messagesOf(input.request.json)
        .filter((m) => (m.role === 'system' || m.role === 'user' || m.role === 'assistant') && m.text.length > 0)
        .map((m) => ({ role: m.role, content: m.text }));
      if (messages.length === 0 && input.request.text) messages.push({ role: 'user', content: input.request.text });
      if (input.hook === 'afterResponse' && input.response?.text) messages.push({ role: 'assistant', content: input.response.text });
      if (messages.length === 0) return nothingToCheck(VENDOR);
      const body = { messages, breakdown: true, ...(p.projectId ? { project_id: p.projectId } : {}) };
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

export function createLakeraChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [guard(credentials)] as unknown as GuardrailCheck[];
}
