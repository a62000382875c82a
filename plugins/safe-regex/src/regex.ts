import { RE2JS } from 're2js';

/**
 * Regular expressions from configs, compiled on a linear-time engine.
 *
 * `re2` (the default) is RE2's syntax and semantics, run by re2js (a pure JavaScript port of RE2):
 * no backtracking, so the time of a match grows with the text times the size of the compiled
 * pattern, never exponentially. `javascript` is the built-in RegExp, for the operator's own
 * patterns where they opt in (lookaround, backreferences); it backtracks, so it is never used for a
 * pattern a caller sent.
 */
export type RegexEngine = 're2' | 'javascript';
export const REGEX_ENGINES = ['re2', 'javascript'] as const;

export interface RegexLimits {
  /** The longest pattern accepted, in characters. */
  maxLength: number;
  /**
   * The largest compiled pattern accepted, in RE2 program instructions (`a{1000}` is about 1000).
   * It bounds the compile time and what one character of text can cost.
   */
  maxProgramSize: number;
}

export const DEFAULT_LIMITS: Readonly<RegexLimits> = Object.freeze({ maxLength: 1000, maxProgramSize: 2000 });

export interface CompileOptions extends Partial<RegexLimits> {
  engine?: RegexEngine;
}

/** Why a pattern was refused or a match not run. */
export type SafeRegexReason = 'invalid' | 'unsupported' | 'too_long' | 'too_complex' | 'flags' | 'work_limit';

/**
 * A pattern the engine refuses, or a match over the request's work limit. The message reads after
 * the field's name ("`rule` is not a valid regular expression: ..."), so callers put the field in
 * front of it.
 */
export class SafeRegexError extends Error {
  override readonly name = 'SafeRegexError';
  constructor(
    readonly reason: SafeRegexReason,
    message: string,
  ) {
    super(message);
  }
}

/** Where a match is: its start and length in UTF-16 code units (as JavaScript's String indices). */
export interface Match {
  index: number;
  length: number;
}

/**
 * A compiled pattern. Stateless (no `lastIndex`): one object is shared by every config and request
 * that uses the pattern. Each operation takes an optional meter that is charged before the work.
 */
export interface SafeRegex {
  readonly source: string;
  readonly flags: string;
  readonly engine: RegexEngine;
  /** What one pass over one character costs a meter: the program size for `re2`, 1 for `javascript` (not bounded). */
  readonly cost: number;
  /** Whether the pattern matches anywhere in the text. */
  test(text: string, meter?: RegexMeter): boolean;
  /** The leftmost match (JavaScript's and RE2's leftmost-first choice), or null. */
  match(text: string, meter?: RegexMeter): Match | null;
  /**
   * Whether the text holds a match that ends before its last character: one that stays a match
   * whatever is appended (`$` and `\b` have seen the character after it). For streams.
   */
  settled(text: string, meter?: RegexMeter): boolean;
  /** Every match replaced (`$&`, `$1`, `$<name>`, `$$` as in String.prototype.replace), and how many there were. */
  replaceAll(text: string, replacement: string, meter?: RegexMeter): { text: string; count: number };
}

/**
 * A budget of regex work, in units of (compiled pattern size × characters scanned), charged before
 * each pass over a text; the pass that would go over it is refused with a `work_limit` error and
 * nothing runs. One per request, for the patterns a caller sent: it bounds what a request can cost
 * however many patterns and however long a text it brings.
 */
export class RegexMeter {
  #spent = 0;
  constructor(readonly limit: number) {}

  get spent(): number {
    return this.#spent;
  }

  /** Charges `passes` scans of a text of `length` characters by `re`; throws (and charges nothing) past the limit. */
  charge(re: Pick<SafeRegex, 'cost'>, length: number, passes = 1): void {
    const cost = re.cost * (length + 1) * passes;
    if (this.#spent + cost > this.limit) {
      throw new SafeRegexError(
        'work_limit',
        `over the regex work limit of this request (${this.limit} units of pattern size × text length; ` +
          `this pattern costs ${re.cost} per character, on ${length} characters): use a simpler pattern or a shorter text`,
      );
    }
    this.#spent += cost;
  }
}

const FLAGS = /^[imsu]*$/;

/** The flags a pattern may carry: i, m, s, u (each at most once). `g` and `y` are refused: they make a regex stateful. */
export function checkFlags(flags: string): void {
  if (!FLAGS.test(flags) || new Set(flags).size !== flags.length) {
    throw new SafeRegexError('flags', `given the flags ${JSON.stringify(flags)}: use any of i, m, s and u, each at most once`);
  }
}

/** Compiles a pattern, without a cache (see RegexCache). Throws SafeRegexError. */
export function compileUncached(pattern: string, flags = '', options: CompileOptions = {}): SafeRegex {
  const maxLength = options.maxLength ?? DEFAULT_LIMITS.maxLength;
  if (pattern.length > maxLength) {
    throw new SafeRegexError('too_long', `longer than ${maxLength} characters (it has ${pattern.length})`);
  }
  checkFlags(flags);
  if (options.engine === 'javascript') return new JsRegex(pattern, flags);
  const re = new Re2Regex(pattern, flags);
  const max = options.maxProgramSize ?? DEFAULT_LIMITS.maxProgramSize;
  if (re.cost > max) {
    throw new SafeRegexError(
      'too_complex',
      `too complex for the linear-time engine: it compiles to ${re.cost} instructions, more than the limit of ${max} ` +
        '(large counted repetitions such as {500} cost the most)',
    );
  }
  return re;
}

function re2Flags(flags: string): number {
  let f = 0;
  if (flags.includes('i')) f |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) f |= RE2JS.MULTILINE;
  if (flags.includes('s')) f |= RE2JS.DOTALL;
  // `u` changes nothing: RE2 always matches by code point.
  return f;
}

class Re2Regex implements SafeRegex {
  readonly engine = 're2';
  readonly cost: number;
  readonly #re: RE2JS;
  readonly #syntax: string;
  /** The pattern followed by one more character, made on first use by settled(). */
  #tail: RE2JS | undefined;

  constructor(
    readonly source: string,
    readonly flags: string,
  ) {
    this.#syntax = toRe2Syntax(source);
    this.#re = compileRe2(this.#syntax, re2Flags(flags), source, flags);
    this.cost = Math.max(1, this.#re.programSize());
  }

  test(text: string, meter?: RegexMeter): boolean {
    meter?.charge(this, text.length);
    return this.#re.test(text);
  }

  match(text: string, meter?: RegexMeter): Match | null {
    // test() runs on RE2's DFA where it can; the match's bounds need the slower NFA, run only on a hit.
    if (!this.test(text, meter)) return null;
    meter?.charge(this, text.length);
    const m = this.#re.matcher(text);
    if (!m.find()) return null;
    return { index: m.start(), length: m.end() - m.start() };
  }

  settled(text: string, meter?: RegexMeter): boolean {
    // A match that ends before the last character is a match of the pattern followed by one more
    // character: one test, with the assertions at its end (`$`, `\b`) seeing the real next character.
    this.#tail ??= RE2JS.compile(`(?:${this.#syntax})(?s:.)`, re2Flags(this.flags));
    meter?.charge(this, text.length);
    return this.#tail.test(text);
  }

  replaceAll(text: string, replacement: string, meter?: RegexMeter): { text: string; count: number } {
    if (!this.test(text, meter)) return { text, count: 0 };
    meter?.charge(this, text.length, 2);
    let count = 0;
    const m = this.#re.matcher(text);
    while (m.find()) count++;
    return { text: this.#re.matcher(text).replaceAll(replacement), count };
  }
}

function compileRe2(syntax: string, flags: number, source: string, jsFlags: string): RE2JS {
  try {
    return RE2JS.compile(syntax, flags);
  } catch (err) {
    const why = (err as Error).message;
    if (!isValidJavaScript(source, jsFlags)) throw new SafeRegexError('invalid', `not a valid regular expression: ${why}`);
    throw new SafeRegexError('unsupported', `not supported by the linear-time regex engine (RE2 syntax): ${unsupportedHint(source)}${why}`);
  }
}

function isValidJavaScript(source: string, flags: string): boolean {
  try {
    // Compiling is linear; only matching can backtrack. Nothing is matched here.
    new RegExp(source, flags);
    return true;
  } catch {
    return false;
  }
}

/** What a JavaScript-only pattern probably uses, for the message. */
function unsupportedHint(source: string): string {
  if (/\(\?<?[=!]/.test(source)) return 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not available; ';
  if (/\\[1-9]|\\k</.test(source)) return 'backreferences (\\1, \\k<name>) are not available; ';
  return '';
}

/**
 * JavaScript spellings RE2 lacks, rewritten: `\uXXXX` (a surrogate pair as one character) and
 * `\u{X...}` become `\x{X...}`. Everything else is left to RE2, escapes included.
 */
export function toRe2Syntax(source: string): string {
  if (!source.includes('\\u')) return source;
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = source[i + 1];
    if (next === 'u') {
      const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(source.slice(i + 2, i + 10));
      if (braced) {
        out += `\\x{${braced[1]}}`;
        i += 1 + braced[0].length;
        continue;
      }
      const unit = hex4(source, i + 2);
      if (unit !== undefined) {
        let code = unit;
        i += 5;
        if (unit >= 0xd800 && unit <= 0xdbff && source.startsWith('\\u', i + 1)) {
          const low = hex4(source, i + 3);
          if (low !== undefined && low >= 0xdc00 && low <= 0xdfff) {
            code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            i += 6;
          }
        }
        out += `\\x{${code.toString(16)}}`;
        continue;
      }
    }
    // Any other escape is copied whole, so an escaped backslash is never read as the start of one.
    out += c + (next ?? '');
    i++;
  }
  return out;
}

function hex4(s: string, at: number): number | undefined {
  const h = s.slice(at, at + 4);
  return /^[0-9A-Fa-f]{4}$/.test(h) ? parseInt(h, 16) : undefined;
}

/** The built-in RegExp, for operator patterns that opted in. Never metered usefully: it backtracks. */
class JsRegex implements SafeRegex {
  readonly engine = 'javascript';
  readonly cost = 1;
  readonly #re: RegExp;
  readonly #all: RegExp;
  readonly #lookahead: boolean;

  constructor(
    readonly source: string,
    readonly flags: string,
  ) {
    try {
      this.#re = new RegExp(source, flags);
    } catch (err) {
      throw new SafeRegexError('invalid', `not a valid regular expression: ${(err as Error).message}`);
    }
    this.#all = new RegExp(source, `${flags}g`);
    this.#lookahead = /\(\?[=!]/.test(source);
  }

  test(text: string, meter?: RegexMeter): boolean {
    meter?.charge(this, text.length);
    return this.#re.test(text);
  }

  match(text: string, meter?: RegexMeter): Match | null {
    meter?.charge(this, text.length);
    const m = this.#re.exec(text);
    return m ? { index: m.index, length: m[0].length } : null;
  }

  settled(text: string, meter?: RegexMeter): boolean {
    // A lookahead may look past the end of what has arrived: never settled.
    if (this.#lookahead) return false;
    const m = this.match(text, meter);
    return m !== null && m.index + m.length < text.length;
  }

  replaceAll(text: string, replacement: string, meter?: RegexMeter): { text: string; count: number } {
    meter?.charge(this, text.length, 2);
    // match() and replace() with a global regex start at 0 and reset lastIndex: no state survives.
    const count = text.match(this.#all)?.length ?? 0;
    return { text: count ? text.replace(this.#all, replacement) : text, count };
  }
}
