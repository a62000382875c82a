// Builds CheckInputs for calling the PII checks directly.
import type { z } from 'zod';
import { makeCtx, newKernel } from '@waygate/core/testing';
import type { CheckHook, CheckInput, CheckResult, GuardrailCheck } from '@waygate/guardrails';

const kernel = newKernel();

export interface InputInit {
  hook?: CheckHook;
  text?: string;
  json?: Record<string, unknown>;
  response?: { text: string; json?: unknown };
  endpoint?: string;
}

export function input<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, init: InputInit = {}): CheckInput<z.output<S>> {
  const json = init.json;
  return {
    hook: init.hook ?? (init.response ? 'afterResponse' : 'beforeRequest'),
    params: check.params.parse(rawParams) as z.output<S>,
    request: { json, text: init.text ?? '' },
    ...(init.response ? { response: { json: init.response.json ?? null, text: init.response.text, status: 200 } } : {}),
    endpoint: init.endpoint ?? 'chat.completions',
    provider: 'openai',
    metadata: {},
    headers: {},
    signal: new AbortController().signal,
    ctx: makeCtx(kernel, { provider: 'alpha' }, json ? { body: json } : {}),
    egress: kernel.egress,
  };
}

export async function run<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, init: InputInit = {}): Promise<CheckResult> {
  return check.run(input(check, rawParams, init));
}

export function rejects(check: GuardrailCheck, rawParams: unknown): string {
  const r = check.params.safeParse(rawParams);
  if (r.success) throw new Error(`expected ${check.id} to reject ${JSON.stringify(rawParams)}`);
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}
