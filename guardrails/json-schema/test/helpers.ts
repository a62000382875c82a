// Builds CheckInputs for calling the jsonSchema check directly (after the call, on an answer text).
import type { z } from 'zod';
import { makeCtx, newKernel } from '@waygate/core/testing';
import type { CheckInput, CheckResult, GuardrailCheck } from '@waygate/guardrails';

const kernel = newKernel();

export function input<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, answer: string): CheckInput<z.output<S>> {
  const json = { model: 'm', messages: [{ role: 'user', content: 'give me JSON' }] };
  return {
    hook: 'afterResponse',
    params: check.params.parse(rawParams) as z.output<S>,
    request: { json, text: 'give me JSON' },
    response: { json: { choices: [{ index: 0, message: { role: 'assistant', content: answer } }] }, text: answer, status: 200 },
    endpoint: 'chat.completions',
    provider: 'openai',
    metadata: {},
    headers: {},
    signal: new AbortController().signal,
    ctx: makeCtx(kernel, { provider: 'alpha' }, { body: json }),
    egress: kernel.egress,
  };
}

export async function run<S extends z.ZodType>(check: GuardrailCheck<S>, rawParams: unknown, answer: string): Promise<CheckResult> {
  return check.run(input(check, rawParams, answer));
}

export function rejects(check: GuardrailCheck, rawParams: unknown): string {
  const r = check.params.safeParse(rawParams);
  if (r.success) throw new Error(`expected ${check.id} to reject ${JSON.stringify(rawParams)}`);
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}
