import { z } from 'zod';
import { DEFAULT_LIMITS, REGEX_ENGINES } from './regex.js';

/** Default work limit per request for the patterns a caller sent (see RegexMeter): under half a second of CPU at the worst (measured 25-45 ns per unit for patterns that defeat the DFA). */
export const DEFAULT_WORK_LIMIT = 10_000_000;

/** `maxLength` and `maxProgramSize`, for a plugin's options (`"regex": {...}`); both optional, with the defaults. */
export const RegexLimitsSchema = z.strictObject({
  maxLength: z.number().int().min(1).max(100_000).default(DEFAULT_LIMITS.maxLength),
  maxProgramSize: z.number().int().min(1).max(1_000_000).default(DEFAULT_LIMITS.maxProgramSize),
});

/** A per-request work limit (units of pattern size × characters), for a plugin's options. */
export const WorkLimitSchema = z.number().int().min(1).max(1e12).default(DEFAULT_WORK_LIMIT);

/** `"re2"` (the default) or `"javascript"`, for an option or a parameter only the config file may set. */
export const RegexEngineSchema = z.enum(REGEX_ENGINES).default('re2');
