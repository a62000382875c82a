import { z } from 'zod';
import { definePlugin, pluginManifest, BeforeRequestStage, AfterResponseStage } from '@waygate/core';
import { WorkLimitSchema } from '@waygate/safe-regex';
import { Guardrails } from './guardrails.js';

export { Guardrails, HOOKS_FAILED_MESSAGE, DENIED_STATUS, FAILED_STATUS, VERDICT_HEADER } from './guardrails.js';
export type { GuardrailsOptions } from './guardrails.js';
export { registerChecks, defineCheck, CHECKS } from './checks.js';
export type { GuardrailCheck, CheckInput, CheckResult, CheckHook } from './checks.js';
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
export type { Side, RawHook, RawCheck, HookSpec, CheckSpec, HookSet, Feedback, ResolveOptions, IgnoredParameters } from './config.js';
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
  /**
   * Refuse (400) a check parameter the check does not define. Off by default: such parameters are
   * ignored with a warning in the log, as Portkey ignores them. `not: false` is accepted either way.
   */
  strictParameters: z.boolean().default(false),
  /**
   * The regex work (pattern size × characters, summed; see @waygate/safe-regex) that the guardrails a
   * request sent itself (config header, default-guardrails headers) may cost that request; past it
   * the check fails with an error (closed, unless `fail_on_error: false`). Stream checks' early looks
   * have a budget of the same size of their own. The config file's guardrails are not metered.
   */
  regexWorkLimit: WorkLimitSchema,
});

const manifest = pluginManifest(import.meta.url, 'guardrail');

export default definePlugin({
  manifest,
  configSchema: GuardrailsOptionsSchema,
  setup(api, options) {
    const guardrails = new Guardrails(api, options);
    api.addConfigCheck((node, path) => guardrails.checkNode(node, path));
    // The options name checks that plugins loaded later register: resolved when start-up ends.
    api.onSeal(() => guardrails.optionHooks());
    api.hooks.beforeRequest.tapPromise(BeforeRequestStage.GUARDRAIL_INPUT, (ctx) => guardrails.beforeRequest(ctx));
    api.hooks.afterResponse.tapPromise(AfterResponseStage.GUARDRAIL_OUTPUT, (res, ctx) => guardrails.afterResponse(res, ctx));
  },
});
