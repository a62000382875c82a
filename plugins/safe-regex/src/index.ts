/**
 * @waygate/safe-regex: regular expressions from configs that cannot blow up. A library, not a
 * plugin: the plugins that take patterns from configs (strategy-conditional's `$regex`, the
 * guardrail checks, JSON Schema `pattern`s) compile them here.
 *
 *     const re = compileSafe('^gpt-4', 'i');            // RE2 syntax, linear time, cached
 *     re.test(text, meter);                             // meter: the request's work budget, for a caller's pattern
 *
 * A pattern RE2 refuses (backreferences, lookaround), one longer than `maxLength` or larger than
 * `maxProgramSize` throws a SafeRegexError whose message reads after the field's name.
 */
export { DEFAULT_LIMITS, REGEX_ENGINES, RegexMeter, SafeRegexError, checkFlags, compileUncached, toRe2Syntax } from './regex.js';
export type { CompileOptions, Match, RegexEngine, RegexLimits, SafeRegex, SafeRegexReason } from './regex.js';
export { RegexCache, compileSafe, sharedCache } from './cache.js';
export { DEFAULT_WORK_LIMIT, RegexEngineSchema, RegexLimitsSchema, WorkLimitSchema } from './options.js';
