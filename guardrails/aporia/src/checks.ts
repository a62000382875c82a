/**
 * aporia.validateProject: Aporia Guardrails' project validation, with Portkey's id and parameters.
 *
 *   POST {apiEndpoint:-https://gr-prd.aporia.com}/{projectID}/validate   X-APORIA-API-KEY: <apiKey>
 *     {"messages": [{role, content}], "explain": true, "validation_target": "prompt" | "response", "response"?}
 *   → {"action": "passthrough" | "block" | "modify" | "rephrase" | ..., "revised_response"?, "explain_log"?, "policy_execution_result"?}
 *
 * Passes when the action is `passthrough`. Aporia's roles are `system`, `user`, `assistant` and `other`
 * ("for any unsupported roles"): any other role (`developer`, `tool`, ...) is sent as `other`.
 * Wire format verified against https://gr-docs.aporia.com/fundamentals/integration/rest-api.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  VendorError,
  baseUrlParam,
  callVendor,
  isPlainObject,
  messagesOf,
  nothingToCheck,
  secretParam,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Aporia';

/** The roles Aporia's REST API takes; every other role is sent as `other`. */
const APORIA_ROLES = new Set(['system', 'user', 'assistant']);

/** Portkey's `apiKey` and `apiEndpoint` (e.g. the trial host `https://gr-prd-trial.aporia.com`). */
export const AporiaCredentialsSchema = z.strictObject({ apiKey: secretParam, apiEndpoint: baseUrlParam.optional() });
export type AporiaCredentials = z.output<typeof AporiaCredentialsSchema>;

export function validateProject(fromOptions?: AporiaCredentials) {
  return defineCheck({
    id: 'validateProject',
    params: withCredentials(
      {
        projectID: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'projectID is an Aporia project id'),
        timeout: timeoutParam(5000),
      },
      AporiaCredentialsSchema,
      fromOptions,
      'Aporia credentials',
    ),
    async run(input) {
      const p = input.params;
      const messages = messagesOf(input.request.json)
        .filter((m) => m.text.length > 0)
        .map((m) => ({ role: APORIA_ROLES.has(m.role) ? m.role : 'other', content: m.text }));
      if (messages.length === 0 && input.request.text) messages.push({ role: 'user', content: input.request.text });
      const after = input.hook === 'afterResponse';
      if (messages.length === 0 && !(after && input.response?.text)) return nothingToCheck(VENDOR);
      const body = {
        messages,
        explain: true,
        validation_target: after ? 'response' : 'prompt',
        ...(after ? { response: input.response?.text ?? '' } : {}),
      };
      const a = await callVendor(input, {
        vendor: VENDOR,
        url: `${p.credentials.apiEndpoint ?? 'https://gr-prd.aporia.com'}/${p.projectID}/validate`,
        headers: { 'x-aporia-api-key': p.credentials.apiKey },
        body,
        timeout: p.timeout,
      });
      if (!isPlainObject(a) || typeof a.action !== 'string') throw new VendorError(`${VENDOR} answered without an action`);
      const pass = a.action === 'passthrough';
      return {
        verdict: pass,
        data: {
          explanation: pass ? 'Aporia let it pass.' : `Aporia's action: ${a.action}.`,
          action: a.action,
          explain_log: a.explain_log,
          ...(typeof a.revised_response === 'string' ? { revised_response: a.revised_response } : {}),
        },
      };
    },
  });
}

export function createAporiaChecks(credentials?: AporiaCredentials): GuardrailCheck[] {
  return [validateProject(credentials)] as unknown as GuardrailCheck[];
}
