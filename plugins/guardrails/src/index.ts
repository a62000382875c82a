import { z } from 'zod';
import { definePlugin, pluginManifest, Stage } from '@waygate/core';
import { Guardrails } from './guardrails.js';

export { Guardrails, HOOKS_FAILED_MESSAGE, DENIED_STATUS, FAILED_STATUS, VERDICT_HEADER } from './guardrails.js';
export type { GuardrailsOptions } from './guardrails.js';
export {
  HOOK_KEYS,
  NO_HOOKS,
  parseShorthand,
  parseFullHooks,
  parseMixed,
  parseNodeRaw,
  resolveHooks,
  closeMatches,
  unknownCheckMessage,
} from './config.js';
export type { Side, RawHook, RawCheck, HookSpec, CheckSpec, HookSet, Feedback } from './config.js';
export { runHooks, runHook, runCheck, verdictOf, CheckTimeoutError } from './runner.js';
export type { Snapshot, RunEnv, HookResult, CheckRecord } from './runner.js';
export { requestView, responseView, streamTextReader, hookResultsEvent, isHookResultsEvent } from './views.js';
export type { TextView, StreamTextReader } from './views.js';

/** The plugin's options (its entry's `options` in the config file). */
export const GuardrailsOptionsSchema = z.strictObject({
  /** Input guardrails for every request, in the shorthand or as full hook objects. */
  input: z.array(z.unknown()).default([]),
  /** Output guardrails for every answer, in the same forms. */
  output: z.array(z.unknown()).default([]),
  /** How long one check may take before it counts as failed (ms). */
  checkTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
});

const manifest = pluginManifest(import.meta.url, 'guardrail');

export default definePlugin({
  manifest,
  configSchema: GuardrailsOptionsSchema,
  setup(kernel, options) {
    const guardrails = new Guardrails(kernel, manifest.name, options);
    kernel.addConfigCheck((node, path) => guardrails.checkNode(node, path));
    // The options name checks that plugins loaded later register: resolved when start-up ends.
    kernel.onSeal(() => guardrails.optionHooks());
    kernel.hooks.beforeRequest.tapPromise({ name: manifest.name, stage: Stage.GUARDRAIL_INPUT }, (ctx) => guardrails.beforeRequest(ctx));
    kernel.hooks.afterResponse.tapPromise({ name: manifest.name, stage: Stage.GUARDRAIL_OUTPUT }, (res, ctx) => guardrails.afterResponse(res, ctx));
  },
});
