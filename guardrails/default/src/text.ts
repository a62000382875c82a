/**
 * Text measures shared by the counting checks. Each is monotonic: a longer text (more streamed
 * tokens) never counts fewer, which is what lets a stream be failed early once a maximum is passed.
 */

/** Words: whitespace-separated tokens with at least one letter or digit (a lone "-" is not a word). */
export function countWords(text: string): number {
  let n = 0;
  let counted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) counted = false;
    else if (!counted && isWordChar(c, text, i)) {
      n++;
      counted = true;
    }
  }
  return n;
}

function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
function isWordChar(c: number, text: string, i: number): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  if (c < 128) return false;
  return LETTER_OR_DIGIT.test(String.fromCodePoint(text.codePointAt(i)!));
}

/** A sentence end: a run of terminators (and closing quotes or brackets) followed by a space or the end. */
const SENTENCE_END = /[.!?…]+["'”’)\]]*(?=\s|$)|[。！？]+/gu;
/** The same, but only where the next character is already known (for a text that may still grow). */
const SETTLED_SENTENCE_END = /[.!?…]+["'”’)\]]*(?=\s)|[。！？]+(?=.)/gsu;
const HAS_CONTENT = /[\p{L}\p{N}]/u;

/**
 * Sentences: each terminator run that ends a sentence, plus a last sentence without a terminator
 * when letters or digits follow the last one. "3.14" and "e.g.x" are not sentence ends; "Dr. Smith"
 * counts two (the cheap rule's known limit).
 */
export function countSentences(text: string): number {
  let n = 0;
  let last = 0;
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(text); m; m = SENTENCE_END.exec(text)) {
    // A terminator with nothing before it since the last sentence ("...", "?!") is not a sentence.
    if (HAS_CONTENT.test(text.slice(last, m.index))) n++;
    last = m.index + m[0].length;
  }
  if (HAS_CONTENT.test(text.slice(last))) n++;
  return n;
}

/** A lower bound on the sentences of any text that starts with `text`. */
export function countSettledSentences(text: string): number {
  let n = 0;
  let last = 0;
  SETTLED_SENTENCE_END.lastIndex = 0;
  for (let m = SETTLED_SENTENCE_END.exec(text); m; m = SETTLED_SENTENCE_END.exec(text)) {
    if (HAS_CONTENT.test(text.slice(last, m.index))) n++;
    last = m.index + m[0].length;
  }
  return n;
}

/** Characters as Unicode code points (an emoji made of a surrogate pair is one). */
export function countCharacters(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * The JSON values in a text, most likely first: the whole text, then fenced code blocks (```json or
 * unlabelled), then balanced `{...}` spans found by a scan that respects strings. At most `max`.
 */
export function findJson(text: string, max = 20): unknown[] {
  const out: unknown[] = [];
  const tryParse = (s: string): boolean => {
    const t = s.trim();
    if (t[0] !== '{' && t[0] !== '[') return false;
    try {
      out.push(JSON.parse(t));
      return true;
    } catch {
      return false;
    }
  };
  if (tryParse(text)) return out;
  const fence = /```[ \t]*(?:json5?|jsonc|JSON)?[ \t]*\r?\n([\s\S]*?)```/g;
  for (let m = fence.exec(text); m && out.length < max; m = fence.exec(text)) tryParse(m[1]!);
  for (let i = text.indexOf('{'); i !== -1 && out.length < max;) {
    const end = matchingBrace(text, i);
    if (end !== -1 && tryParse(text.slice(i, end + 1))) i = text.indexOf('{', end + 1);
    else i = text.indexOf('{', i + 1);
  }
  return out;
}

/** The index of the `}` closing the `{` at `start` (strings and escapes respected), or -1. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return c === 125 ? i : -1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}
