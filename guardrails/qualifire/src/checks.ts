/**
 * qualifire.*: Qualifire's evaluation API, with Portkey's ids and parameters.
 *
 *   POST {base:-https://api.qualifire.ai}/api/v1/evaluation/evaluate   X-Qualifire-API-Key: <apiKey>
 *     {"input"?, "output"?, "<check>_check": true, "<check>_mode"?, "assertions"?, "policy_target"?, "messages"?, "available_tools"?}
 *   → {"status": "success" | "warning" | "failed", "score", "evaluationResults": [{type, results: [...]}]}
 *
 * (Qualifire's API reference, "Evaluate".) A check fails when `status` is `failed`.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { CheckHook, CheckInput, GuardrailCheck } from '@waygate/guardrails';
import {
  ApiKeyCredentialsSchema,
  VendorError,
  callVendor,
  isPlainObject,
  nothingToCheck,
  timeoutParam,
  withCredentials,
} from '@waygate/guardrail-vendor-kit';
import type { ApiKeyCredentials } from '@waygate/guardrail-vendor-kit';

const VENDOR = 'Qualifire';

export const QualifireCredentialsSchema = ApiKeyCredentialsSchema;

export const QUALIFIRE_BASE_URL = 'https://api.qualifire.ai';

const mode = z.enum(['speed', 'balanced', 'quality']).default('balanced');

type Base = { timeout: number; credentials: ApiKeyCredentials };

async function evaluate(input: CheckInput<Base>, body: Record<string, unknown>) {
  const p = input.params;
  const a = await callVendor(input, {
    vendor: VENDOR,
    url: `${p.credentials.baseURL ?? QUALIFIRE_BASE_URL}/api/v1/evaluation/evaluate`,
    headers: { 'x-qualifire-api-key': p.credentials.apiKey },
    body,
    timeout: p.timeout,
  });
  if (!isPlainObject(a) || typeof a.status !== 'string') throw new VendorError(`${VENDOR} answered without a status`);
  const pass = a.status !== 'failed';
  return {
    verdict: pass,
    data: { explanation: `Qualifire status: ${a.status}.`, status: a.status, score: a.score, evaluationResults: a.evaluationResults },
  };
}

/** A check whose body is the request's text (and the answer's after the call) plus its flags. */
function simple(
  id: string,
  hooks: readonly CheckHook[],
  flags: (p: { mode?: string }) => Record<string, unknown>,
  withMode: boolean,
  fromOptions?: ApiKeyCredentials,
) {
  return defineCheck({
    id,
    hooks,
    params: withCredentials(
      { ...(withMode ? { mode } : {}), timeout: timeoutParam(60_000) },
      QualifireCredentialsSchema,
      fromOptions,
      'Qualifire credentials',
    ),
    async run(input) {
      const after = input.hook === 'afterResponse';
      const output = after ? (input.response?.text ?? '') : undefined;
      if (!input.request.text && !output) return nothingToCheck(VENDOR);
      const body = { input: input.request.text, ...(after ? { output } : {}), ...flags(input.params as { mode?: string }) };
      return evaluate(input as unknown as CheckInput<Base>, body);
    },
  });
}

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  return content.map((p) => (isPlainObject(p) && p.type === 'text' && typeof p.text === 'string' ? p.text : `\n${JSON.stringify(p)}\n`)).join('');
}

function toolCalls(calls: unknown) {
  if (!Array.isArray(calls)) return undefined;
  const out = calls
    .filter((c) => isPlainObject(c) && c.type === 'function' && isPlainObject(c.function))
    .map((c) => {
      const f = (c as Record<string, Record<string, unknown>>).function as Record<string, unknown>;
      let args: unknown = f.arguments ?? '{}';
      if (typeof args === 'string') {
        try {
          args = JSON.parse(args);
        } catch {
          // sent as given
        }
      }
      // Qualifire's tool call: {id, type, function: {name, arguments (an object)}}.
      return { id: (c as Record<string, unknown>).id, type: 'function', function: { name: f.name, arguments: args } };
    });
  return out.length ? out : undefined;
}

function message(m: Record<string, unknown>) {
  return {
    role: m.role,
    content: textOfContent(m.content),
    ...(toolCalls(m.tool_calls) ? { tool_calls: toolCalls(m.tool_calls) } : {}),
    ...(typeof m.tool_call_id === 'string' ? { tool_call_id: m.tool_call_id } : {}),
  };
}

/** The last request message and the answer's message (OpenAI's chat shape), and the request's function tools. */
export function conversation(request: Record<string, unknown> | undefined, response: unknown) {
  const msgs = Array.isArray(request?.messages) ? request.messages.filter(isPlainObject) : [];
  const out = msgs.length ? [message(msgs[msgs.length - 1] as Record<string, unknown>)] : [];
  const choice = isPlainObject(response) && Array.isArray(response.choices) ? response.choices[0] : undefined;
  if (isPlainObject(choice) && isPlainObject(choice.message)) out.push(message(choice.message));
  const tools = Array.isArray(request?.tools)
    ? request.tools
        .filter((t) => isPlainObject(t) && t.type === 'function' && isPlainObject(t.function))
        .map((t) => {
          const f = (t as Record<string, Record<string, unknown>>).function as Record<string, unknown>;
          return { name: f.name, description: f.description, parameters: f.parameters };
        })
    : [];
  return { messages: out, available_tools: tools.length ? tools : undefined };
}

export function toolUseQuality(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'toolUseQuality',
    hooks: ['afterResponse'],
    params: withCredentials({ mode, timeout: timeoutParam(60_000) }, QualifireCredentialsSchema, fromOptions, 'Qualifire credentials'),
    async run(input) {
      const { messages, available_tools } = conversation(input.request.json, input.response?.json);
      if (messages.length === 0) return nothingToCheck(VENDOR);
      return evaluate(input, {
        messages,
        ...(available_tools ? { available_tools } : {}),
        tool_use_quality_check: true,
        tuq_mode: input.params.mode,
      });
    },
  });
}

export function policy(fromOptions?: ApiKeyCredentials) {
  return defineCheck({
    id: 'policy',
    params: withCredentials(
      {
        policies: z.array(z.string().min(1).max(2000)).min(1).max(50),
        mode,
        policy_target: z.enum(['input', 'output', 'both']).default('both'),
        timeout: timeoutParam(60_000),
      },
      QualifireCredentialsSchema,
      fromOptions,
      'Qualifire credentials',
    ),
    async run(input) {
      const p = input.params;
      const body: Record<string, unknown> = { assertions: p.policies, assertions_mode: p.mode, policy_target: p.policy_target };
      if (p.policy_target !== 'output') body.input = input.request.text;
      if (input.hook === 'afterResponse' && p.policy_target !== 'input') body.output = input.response?.text ?? '';
      if (!body.input && !body.output) return nothingToCheck(VENDOR);
      return evaluate(input, body);
    },
  });
}

export function createQualifireChecks(c?: ApiKeyCredentials): GuardrailCheck[] {
  return [
    simple('contentModeration', ['beforeRequest', 'afterResponse'], () => ({ content_moderation_check: true }), false, c),
    simple('hallucinations', ['afterResponse'], (p) => ({ hallucinations_check: true, hallucinations_mode: p.mode }), true, c),
    simple('pii', ['beforeRequest', 'afterResponse'], () => ({ pii_check: true }), false, c),
    simple('promptInjections', ['beforeRequest'], () => ({ prompt_injections: true }), false, c),
    simple('grounding', ['afterResponse'], (p) => ({ grounding_check: true, grounding_mode: p.mode }), true, c),
    toolUseQuality(c),
    policy(c),
  ] as unknown as GuardrailCheck[];
}
