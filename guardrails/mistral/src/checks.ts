/**
 * mistral.moderateContent: Mistral's moderation API, with Portkey's id and parameters.
 *
 *   before the call, on chat requests: POST {base}/v1/chat/moderations  {"model", "input": [[{role, content}, ...]]}
 *   otherwise:                         POST {base}/v1/moderations       {"model", "input": ["text"]}
 *   → {"id", "model", "results": [{"categories": {...: bool}, "category_scores": {...: number}}]}
 *
 * Fails when one of `categories` (the ones not allowed) is flagged. A category the answer does not
 * report (one of mistral-moderation-2603's asked of the 2411 model behind `mistral-moderation-latest`,
 * say) makes the check throw rather than pass unchecked.
 *
 * Wire format verified against docs.mistral.ai (usage/guardrailing, studio/safety-moderation, the
 * 2411 deprecation note) and Portkey's plugins/mistral.
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
  textOf,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Mistral moderation';

/**
 * mistral-moderation-2411's nine categories (Portkey's list), and those mistral-moderation-2603 adds:
 * `dangerous` and `criminal` (which replace `dangerous_and_criminal_content`) and `jailbreaking`.
 */
export const MISTRAL_CATEGORIES = [
  'sexual',
  'hate_and_discrimination',
  'violence_and_threats',
  'dangerous_and_criminal_content',
  'selfharm',
  'health',
  'financial',
  'law',
  'pii',
  'dangerous',
  'criminal',
  'jailbreaking',
] as const;

export const MistralCredentialsSchema = ApiKeyCredentialsSchema;

export function moderateContent(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'moderateContent',
    params: withCredentials(
      {
        categories: z.array(z.enum(MISTRAL_CATEGORIES)).min(1),
        model: z.string().min(1).default('mistral-moderation-latest'),
        timeout: timeoutParam(5000),
      },
      MistralCredentialsSchema,
      fromOptions,
      'Mistral credentials',
    ),
    async run(input) {
      const p = input.params;
      const base = p.credentials.baseURL ?? 'https://api.mistral.ai';
      const conversation =
        input.hook === 'beforeRequest' && input.endpoint === 'chat.completions'
          ? messagesOf(input.request.json)
              .filter((m) => (m.role === 'system' || m.role === 'user' || m.role === 'assistant') && m.text.length > 0)
              .map((m) => ({ role: m.role, content: m.text }))
          : undefined;
      let url: string;
      let body: Record<string, unknown>;
      if (conversation && conversation.length > 0) {
        url = `${base}/v1/chat/moderations`;
        body = { model: p.model, input: [conversation] };
      } else {
        const text = textOf(input);
        if (!text) return nothingToCheck(VENDOR);
        url = `${base}/v1/moderations`;
        body = { model: p.model, input: [text] };
      }
      const a = await callVendor(input, { vendor: VENDOR, url, headers: bearer(p.credentials.apiKey), body, timeout: p.timeout });
      const r = isPlainObject(a) && Array.isArray(a.results) ? a.results[0] : undefined;
      if (!isPlainObject(r) || !isPlainObject(r.categories)) throw new VendorError(`${VENDOR} answered without results[0].categories`);
      const cats = r.categories;
      const unreported = p.categories.filter((c) => typeof cats[c] !== 'boolean');
      if (unreported.length > 0)
        throw new VendorError(
          `${VENDOR} (${isPlainObject(a) && typeof a.model === 'string' ? a.model : p.model}) does not report ${unreported.join(', ')}`,
        );
      const scores = isPlainObject(r.category_scores) ? r.category_scores : {};
      const flagged = p.categories.filter((c) => cats[c] === true);
      return {
        verdict: flagged.length === 0,
        data: {
          explanation: flagged.length ? `Flagged: ${flagged.join(', ')}.` : 'None of the categories is flagged.',
          flagged_categories: flagged,
          category_scores: Object.fromEntries(p.categories.filter((c) => typeof scores[c] === 'number').map((c) => [c, scores[c]])),
        },
      };
    },
  });
}

export function createMistralChecks(credentials?: ApiKeyCredentials): GuardrailCheck[] {
  return [moderateContent(credentials)] as unknown as GuardrailCheck[];
}
