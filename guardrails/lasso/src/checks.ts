/**
 * lasso.classify: Lasso Security's deputies classifier, with Portkey's id and parameters.
 *
 *   POST {baseURL:-https://server.lasso.security}/gateway/v2/classify
 *     lasso-api-key: <apiKey>, lasso-conversation-id?, lasso-user-id?
 *     {"messages": [{role, content}]}
 *   → {"deputies": {<name>: bool}, "deputies_predictions": {<name>: number}, "violations_detected": bool}
 *
 * Fails when `violations_detected`.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  ApiKeyCredentialsSchema,
  VendorError,
  callVendor,
  isPlainObject,
  messagesOf,
  nothingToCheck,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Lasso Security';

export const LassoCredentialsSchema = ApiKeyCredentialsSchema;

/** A value that goes into a header: printable, no line breaks. */
const headerValue = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e][\x20-\x7e]*$/, 'must be printable ASCII without line breaks');

export function classify(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'classify',
    hooks: ['beforeRequest'],
    params: withCredentials(
      {
        /** Portkey lists it; the request's own messages are what is sent. */
        messages: z.array(z.unknown()).optional(),
        conversationId: headerValue.optional(),
        userId: headerValue.optional(),
        timeout: timeoutParam(5000),
      },
      LassoCredentialsSchema,
      fromOptions,
      'Lasso credentials',
    ),
    async run(input) {
      const p = input.params;
      const messages = messagesOf(input.request.json)
        .filter((m) => m.text.length > 0)
        .map((m) => ({ role: m.role, content: m.text }));
      if (messages.length === 0 && input.request.text) messages.push({ role: 'user', content: input.request.text });
      if (messages.length === 0) return nothingToCheck(VENDOR);
      const headers: Record<string, string> = { 'lasso-api-key': p.credentials.apiKey };
      if (p.conversationId) headers['lasso-conversation-id'] = p.conversationId;
      if (p.userId) headers['lasso-user-id'] = p.userId;
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.baseURL ?? 'https://server.lasso.security'}/gateway/v2/classify`,
        headers,
        body: { messages },
        timeout: p.timeout,
      });
      if (!isPlainObject(a) || typeof a.violations_detected !== 'boolean')
        throw new VendorError(`${VENDOR} answered without a boolean violations_detected`);
      const deputies = isPlainObject(a.deputies) ? Object.keys(a.deputies).filter((d) => (a.deputies as Record<string, unknown>)[d] === true) : [];
      return {
        verdict: !a.violations_detected,
        data: {
          explanation: a.violations_detected ? `Violations${deputies.length ? `: ${deputies.join(', ')}` : ''}.` : 'No violations.',
          violations_detected: a.violations_detected,
          deputies,
          deputies_predictions: isPlainObject(a.deputies_predictions) ? a.deputies_predictions : {},
        },
      };
    },
  });
}

export function createLassoChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [classify(credentials)] as unknown as GuardrailCheck[];
}
