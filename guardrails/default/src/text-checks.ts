/**
 * Checks on the text of the request (before the call) or of the answer (after it): Portkey's
 * regexMatch, regexReplace, contains, wordCount, sentenceCount, characterCount, endsWith,
 * alluppercase, alllowercase, notNull, containsCode and jsonKeys, with the same parameter names.
 */
import { z } from 'zod';
import { defineCheck } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import type { RegexLimits } from '@waygate/safe-regex';
import { compileRule, isPlainObject, not, regexEngine, regexFlags, regexRule, textOf } from './common.js';
import { countCharacters, countSentences, countSettledSentences, countWords, findJson } from './text.js';

// ---------------------------------------------------------------------------------------------
// Regular expressions

/** Portkey's regexReplace also takes a rule written as a literal, `/pattern/flags`. */
const REGEX_LITERAL = /^\/(.+?)\/([gimsuyd]*)$/;

/**
 * A rule as a pattern and flags: `/pattern/flags` is unwrapped as Portkey does (`g` and `d` change
 * nothing here: every match is replaced, and indices are not reported), other rules are the pattern.
 */
function splitLiteral(rule: string, flags: string, ctx: z.RefinementCtx): { source: string; flags: string } | undefined {
  const m = REGEX_LITERAL.exec(rule);
  if (!m) return { source: rule, flags };
  if (m[2]!.includes('y')) {
    ctx.addIssue({ code: 'custom', message: 'the sticky flag (y) is not supported in a rule', path: ['rule'], input: rule });
    return undefined;
  }
  const extra = [...new Set(m[2]!.replace(/[gd]/g, ''))].filter((f) => !flags.includes(f)).join('');
  return { source: m[1]!, flags: flags + extra };
}

/**
 * regexMatch and regexReplace under pattern limits (`maxLength`, `maxProgramSize`; the defaults of
 * @waygate/safe-regex when absent). Rules are RE2 patterns, unless the config file's check says
 * `regexEngine: "javascript"` (a request's config may not: `fileOnlyParams`).
 */
export function createRegexChecks(limits: Partial<RegexLimits> = {}) {
  const RegexMatchParams = z.strictObject({ rule: regexRule, flags: regexFlags, not, regexEngine }).transform((p, ctx) => {
    const regex = compileRule(p.rule, p.flags, { ...limits, engine: p.regexEngine }, ctx);
    return regex ? { ...p, regex } : z.NEVER;
  });

  /** The text matches `rule`; with `not`, it must not. */
  const regexMatch = defineCheck({
    id: 'regexMatch',
    params: RegexMatchParams,
    fileOnlyParams: ['regexEngine'],
    run({ params, ...input }) {
      const m = params.regex.match(textOf(input), input.regexMeter);
      const matched = m !== null;
      const verdict = matched !== params.not;
      return {
        verdict,
        data: {
          explanation: matched
            ? `The text matches the pattern${params.not ? ', which it must not' : ''}.`
            : `The text does not match the pattern${params.not ? '' : ', which it must'}.`,
          // Where it matched, never what: the pattern may be there to catch secrets.
          match: m,
        },
      };
    },
    partial(text, params, meter) {
      // Only `not` can fail early: a settled match stays a match however the text goes on.
      return params.not && params.regex.settled(text, meter) ? false : undefined;
    },
  });

  const RegexReplaceParams = z
    .strictObject({
      rule: regexRule,
      flags: regexFlags,
      redactText: z.string().default('[REDACTED]'),
      failOnDetection: z.boolean().default(false),
      regexEngine,
    })
    .transform((p, ctx) => {
      const rule = splitLiteral(p.rule, p.flags, ctx);
      if (!rule) return z.NEVER;
      const regex = compileRule(rule.source, rule.flags, { ...limits, engine: p.regexEngine }, ctx);
      if (!regex) return z.NEVER;
      if (regex.test('')) {
        ctx.addIssue({
          code: 'custom',
          message: 'rule matches the empty string, so it would insert redactText everywhere',
          path: ['rule'],
          input: p.rule,
        });
        return z.NEVER;
      }
      return { ...p, regex };
    });

  /**
   * A mutator: replaces every match of `rule` with `redactText` (`$&`, `$1`… work as in JavaScript's
   * String.replace). Passes unless `failOnDetection` is set and something matched. The rule may be a
   * literal, `/pattern/flags`, as in Portkey.
   */
  const regexReplace = defineCheck({
    id: 'regexReplace',
    mutates: true,
    params: RegexReplaceParams,
    fileOnlyParams: ['regexEngine'],
    run({ params, ...input }) {
      const text = textOf(input);
      const { text: replaced, count } = params.regex.replaceAll(text, params.redactText, input.regexMeter);
      if (count === 0) return { verdict: true, data: { explanation: 'The pattern did not match.', matches: 0 } };
      return {
        verdict: !params.failOnDetection,
        data: { explanation: `Replaced ${count} match${count === 1 ? '' : 'es'} of the pattern.`, matches: count },
        transformedText: replaced,
      };
    },
    partial(text, params, meter) {
      return params.failOnDetection && params.regex.settled(text, meter) ? false : undefined;
    },
  });

  return { regexMatch, regexReplace } satisfies Record<string, GuardrailCheck>;
}

/** The text matches `rule` (RE2 syntax; see createRegexChecks); with `not`, it must not. */
export const { regexMatch, regexReplace } = createRegexChecks();

// ---------------------------------------------------------------------------------------------
// Words

const operator = z.enum(['any', 'all', 'none']).default('any');
const wordList = z.array(z.string().min(1, 'an empty word matches everything')).min(1, 'give at least one word');

/** The text contains `any`, `all` or `none` of the `words` (case-sensitive substrings, as in Portkey). */
export const contains = defineCheck({
  id: 'contains',
  params: z.strictObject({ words: wordList, operator }),
  run({ params, ...input }) {
    const text = textOf(input);
    const found = params.words.filter((w) => text.includes(w));
    const verdict = params.operator === 'any' ? found.length > 0 : params.operator === 'all' ? found.length === params.words.length : found.length === 0;
    return {
      verdict,
      data: {
        explanation: `${found.length} of ${params.words.length} words found; operator "${params.operator}" ${verdict ? 'passed' : 'failed'}.`,
        operator: params.operator,
        found,
        missing: params.words.filter((w) => !found.includes(w)),
      },
    };
  },
  partial(text, params) {
    // With "none", the first forbidden word decides: it cannot un-appear.
    if (params.operator !== 'none') return undefined;
    for (const w of params.words) if (text.includes(w)) return false;
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// Counts

function rangeParams<Min extends string, Max extends string>(minKey: Min, maxKey: Max, maxDefault: number) {
  const shape = { [minKey]: z.number().int().min(0).default(0), [maxKey]: z.number().int().min(0).default(maxDefault), not } as Record<
    Min | Max,
    z.ZodDefault<z.ZodNumber>
  > & {
    not: typeof not;
  };
  return z.strictObject(shape).refine((p) => (p as Record<string, number>)[minKey]! <= (p as Record<string, number>)[maxKey]!, {
    message: `${minKey} is greater than ${maxKey}`,
    path: [minKey],
  });
}

function rangeResult(what: string, count: number, min: number, max: number, inverted: boolean) {
  const inRange = count >= min && count <= max;
  const verdict = inRange !== inverted;
  return {
    verdict,
    data: {
      explanation: `${count} ${what}: ${inRange ? 'within' : 'outside'} ${min}–${max}${inverted ? ' (the check is inverted by not)' : ''}.`,
      count,
      min,
      max,
      not: inverted,
    },
  };
}

/** The number of words is within [minWords, maxWords] (default 0–99999); `not` inverts. */
export const wordCount = defineCheck({
  id: 'wordCount',
  params: rangeParams('minWords', 'maxWords', 99999),
  run({ params, ...input }) {
    return rangeResult('words', countWords(textOf(input)), params.minWords, params.maxWords, params.not);
  },
  partial(text, params) {
    return !params.not && countWords(text) > params.maxWords ? false : undefined;
  },
});

/** The number of sentences is within [minSentences, maxSentences] (default 0–99999); `not` inverts. */
export const sentenceCount = defineCheck({
  id: 'sentenceCount',
  params: rangeParams('minSentences', 'maxSentences', 99999),
  run({ params, ...input }) {
    return rangeResult('sentences', countSentences(textOf(input)), params.minSentences, params.maxSentences, params.not);
  },
  partial(text, params) {
    return !params.not && countSettledSentences(text) > params.maxSentences ? false : undefined;
  },
});

/** The number of characters (code points) is within [minCharacters, maxCharacters] (default 0–9999999); `not` inverts. */
export const characterCount = defineCheck({
  id: 'characterCount',
  params: rangeParams('minCharacters', 'maxCharacters', 9999999),
  run({ params, ...input }) {
    return rangeResult('characters', countCharacters(textOf(input)), params.minCharacters, params.maxCharacters, params.not);
  },
  partial(text, params) {
    // text.length is an upper bound on code points: test the cheap one first.
    return !params.not && text.length > params.maxCharacters && countCharacters(text) > params.maxCharacters ? false : undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// Shape of the text

/**
 * The text ends with `suffix`, or with `suffix` and one final period (Portkey's rule: "... HarryPortkey."
 * ends with "HarryPortkey"); trailing whitespace is ignored. `not` inverts.
 */
export const endsWith = defineCheck({
  id: 'endsWith',
  params: z.strictObject({ suffix: z.string().min(1, 'suffix is empty'), not }),
  run({ params, ...input }) {
    const text = textOf(input);
    const { suffix } = params;
    const exact = text.endsWith(suffix) || text.trimEnd().endsWith(suffix);
    const period = !exact && text.trimEnd().endsWith(`${suffix}.`);
    const ends = exact || period;
    return {
      verdict: ends !== params.not,
      data: { explanation: `The text ${ends ? 'ends' : 'does not end'} with the suffix${period ? ' (before a final period)' : ''}.`, endsWith: ends },
    };
  },
});

function caseCheck(id: 'alluppercase' | 'alllowercase') {
  const upper = id === 'alluppercase';
  return defineCheck({
    id,
    params: z.strictObject({ not }),
    run({ params, ...input }) {
      const text = textOf(input);
      // Characters without case (digits, punctuation, most scripts) never fail either check.
      const all = upper ? text === text.toUpperCase() : text === text.toLowerCase();
      return {
        verdict: all !== params.not,
        data: { explanation: `The text is ${all ? '' : 'not '}all ${upper ? 'upper' : 'lower'} case.` },
      };
    },
    partial(text, params) {
      // One letter of the wrong case decides it for good.
      if (params.not) return undefined;
      return (upper ? text !== text.toUpperCase() : text !== text.toLowerCase()) ? false : undefined;
    },
  });
}

/** Every cased letter in the text is upper case; `not` inverts. */
export const alluppercase = caseCheck('alluppercase');
/** Every cased letter in the text is lower case; `not` inverts. */
export const alllowercase = caseCheck('alllowercase');

/** The answer is not empty: it has text other than whitespace, or tool calls. `not` inverts. */
export const notNull = defineCheck({
  id: 'notNull',
  hooks: ['afterResponse'],
  params: z.strictObject({ not }),
  run({ params, ...input }) {
    const hasText = textOf(input).trim().length > 0;
    const present = hasText || hasToolCalls(input.response?.json);
    return {
      verdict: present !== params.not,
      data: { explanation: present ? (hasText ? 'The answer has content.' : 'The answer has tool calls.') : 'The answer is empty.' },
    };
  },
});

function hasToolCalls(json: unknown): boolean {
  if (!isPlainObject(json)) return false;
  const choices = json.choices;
  if (Array.isArray(choices)) {
    return choices.some((c) => {
      const msg = isPlainObject(c) ? c.message : undefined;
      return isPlainObject(msg) && ((Array.isArray(msg.tool_calls) && msg.tool_calls.length > 0) || isPlainObject(msg.function_call));
    });
  }
  const content = json.content;
  return Array.isArray(content) && content.some((b) => isPlainObject(b) && b.type === 'tool_use');
}

// ---------------------------------------------------------------------------------------------
// Code and JSON in the text

export const CODE_FORMATS = [
  'SQL',
  'Python',
  'TypeScript',
  'JavaScript',
  'Java',
  'C#',
  'C++',
  'C',
  'Ruby',
  'PHP',
  'Swift',
  'Kotlin',
  'Go',
  'Rust',
  'Scala',
  'R',
  'Perl',
  'Shell',
  'HTML',
  'CSS',
  'XML',
  'JSON',
  'YAML',
  'Markdown',
  'Dockerfile',
] as const;
type CodeFormat = (typeof CODE_FORMATS)[number];

/** Fence language tags (lower case) and the format each names. */
const LANGUAGE_TAGS: Readonly<Record<string, CodeFormat>> = Object.freeze({
  sql: 'SQL',
  mysql: 'SQL',
  postgresql: 'SQL',
  postgres: 'SQL',
  psql: 'SQL',
  plsql: 'SQL',
  tsql: 'SQL',
  sqlite: 'SQL',
  python: 'Python',
  py: 'Python',
  python3: 'Python',
  py3: 'Python',
  typescript: 'TypeScript',
  ts: 'TypeScript',
  tsx: 'TypeScript',
  javascript: 'JavaScript',
  js: 'JavaScript',
  jsx: 'JavaScript',
  mjs: 'JavaScript',
  cjs: 'JavaScript',
  node: 'JavaScript',
  java: 'Java',
  csharp: 'C#',
  cs: 'C#',
  'c#': 'C#',
  cpp: 'C++',
  'c++': 'C++',
  cxx: 'C++',
  cc: 'C++',
  hpp: 'C++',
  c: 'C',
  h: 'C',
  ruby: 'Ruby',
  rb: 'Ruby',
  php: 'PHP',
  swift: 'Swift',
  kotlin: 'Kotlin',
  kt: 'Kotlin',
  kts: 'Kotlin',
  go: 'Go',
  golang: 'Go',
  rust: 'Rust',
  rs: 'Rust',
  scala: 'Scala',
  r: 'R',
  perl: 'Perl',
  pl: 'Perl',
  shell: 'Shell',
  sh: 'Shell',
  bash: 'Shell',
  zsh: 'Shell',
  ksh: 'Shell',
  shellscript: 'Shell',
  console: 'Shell',
  html: 'HTML',
  htm: 'HTML',
  xhtml: 'HTML',
  css: 'CSS',
  xml: 'XML',
  json: 'JSON',
  jsonc: 'JSON',
  json5: 'JSON',
  yaml: 'YAML',
  yml: 'YAML',
  markdown: 'Markdown',
  md: 'Markdown',
  dockerfile: 'Dockerfile',
  docker: 'Dockerfile',
});

/** An opening code fence with a language tag: the tag line is complete once its newline arrived. */
const FENCE = /^[ \t]*(?:```|~~~)[ \t]*([A-Za-z0-9_+#.-]+)[^\n]*\n/gm;

function codeFormats(text: string): string[] {
  const found: string[] = [];
  FENCE.lastIndex = 0;
  for (let m = FENCE.exec(text); m; m = FENCE.exec(text)) {
    const tag = m[1]!.toLowerCase();
    const format = LANGUAGE_TAGS[tag] ?? tag;
    if (!found.includes(format)) found.push(format);
  }
  return found;
}

/** The text has a fenced code block whose language tag is `format` (or an alias of it); `not` inverts. */
export const containsCode = defineCheck({
  id: 'containsCode',
  params: z.strictObject({ format: z.enum(CODE_FORMATS), not }),
  run({ params, ...input }) {
    const formats = codeFormats(textOf(input));
    const has = formats.includes(params.format);
    return {
      verdict: has !== params.not,
      data: {
        explanation:
          formats.length === 0
            ? 'No fenced code blocks with a language tag found.'
            : has
              ? `Found ${params.format} code.`
              : `No ${params.format} code found.`,
        searchedFormat: params.format,
        foundFormats: formats,
      },
    };
  },
  partial(text, params) {
    return params.not && codeFormats(text).includes(params.format) ? false : undefined;
  },
});

/**
 * The JSON in the answer (the whole text, a fenced block, or a `{...}` inside it) has `any`, `all`
 * or `none` of the top-level `keys`. Any: some object has one; all: some object has all; none: no
 * object has any. No JSON object at all fails, as in Portkey.
 */
export const jsonKeys = defineCheck({
  id: 'jsonKeys',
  hooks: ['afterResponse'],
  params: z.strictObject({ keys: z.array(z.string()).min(1, 'give at least one key'), operator }),
  run({ params, ...input }) {
    const objects = findJson(textOf(input)).filter(isPlainObject);
    if (objects.length === 0) {
      return { verdict: false, data: { explanation: 'No JSON object found in the text.', operator: params.operator } };
    }
    const present = objects.map((o) => params.keys.filter((k) => Object.hasOwn(o, k)));
    let best: string[];
    let verdict: boolean;
    if (params.operator === 'none') {
      best = present.reduce((a, b) => (b.length > a.length ? b : a), []);
      verdict = best.length === 0;
    } else {
      const need = params.operator === 'any' ? 1 : params.keys.length;
      best = present.find((p) => p.length >= need) ?? present.reduce((a, b) => (b.length > a.length ? b : a), []);
      verdict = best.length >= need;
    }
    return {
      verdict,
      data: {
        explanation: `${verdict ? 'Passed' : 'Failed'} for operator "${params.operator}": found ${best.length ? best.join(', ') : 'none of the keys'}.`,
        operator: params.operator,
        presentKeys: best,
        missingKeys: params.keys.filter((k) => !best.includes(k)),
        objectsFound: objects.length,
      },
    };
  },
});
