import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import {
  alllowercase,
  alluppercase,
  characterCount,
  containsCode,
  contains,
  endsWith,
  jsonKeys,
  notNull,
  createRegexChecks,
  sentenceCount,
  wordCount,
} from './text-checks.js';
import { addPrefix, allowedRequestTypes, modelRules, modelWhitelist, requiredMetadataKeys } from './request-checks.js';
import { promptSize } from './prompt-size.js';
import { log, validUrls, webhook } from './remote-checks.js';
import { createJwtCheck } from './jwt.js';
import type { JwtCheckOptions } from './jwt.js';
import { RegexLimitsSchema } from '@waygate/safe-regex';
import type { RegexLimits } from '@waygate/safe-regex';

export {
  alllowercase,
  alluppercase,
  characterCount,
  containsCode,
  contains,
  endsWith,
  jsonKeys,
  notNull,
  regexMatch,
  regexReplace,
  createRegexChecks,
  sentenceCount,
  wordCount,
  CODE_FORMATS,
} from './text-checks.js';
export { addPrefix, allowedRequestTypes, modelRules, modelWhitelist, requiredMetadataKeys } from './request-checks.js';
export { promptSize, estimatePromptTokens, estimateTextTokens } from './prompt-size.js';
export { log, validUrls, webhook, hookPayload, extractUrls } from './remote-checks.js';
export { createJwtCheck, JwtParams } from './jwt.js';
export type { JwtCheckOptions } from './jwt.js';
export { countWords, countSentences, countCharacters, findJson } from './text.js';

/** The namespace of this package's checks: ids are `default.<check>`, as in Portkey. */
export const NAMESPACE = 'default';

/** Every check of the package; stateful ones (jwt's key-set cache) are made fresh for each call. `regex`: the pattern limits. */
export function createDefaultChecks(opts: { jwt?: JwtCheckOptions; regex?: Partial<RegexLimits> } = {}): GuardrailCheck[] {
  const { regexMatch, regexReplace } = createRegexChecks(opts.regex);
  return [
    regexMatch,
    regexReplace,
    contains,
    wordCount,
    sentenceCount,
    characterCount,
    jsonKeys,
    containsCode,
    validUrls,
    endsWith,
    alluppercase,
    alllowercase,
    notNull,
    modelWhitelist,
    modelRules,
    allowedRequestTypes,
    requiredMetadataKeys,
    addPrefix,
    createJwtCheck(opts.jwt),
    webhook,
    log,
    promptSize,
  ] as GuardrailCheck[];
}

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** The plugin's options: `regex` limits for regexMatch and regexReplace rules (`maxLength` 1000, `maxProgramSize` 2000). */
export const DefaultChecksOptionsSchema = z.strictObject({ regex: RegexLimitsSchema.prefault({}) });

export default definePlugin({
  manifest,
  configSchema: DefaultChecksOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createDefaultChecks({ regex: options.regex }));
  },
});
