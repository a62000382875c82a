/**
 * Scanning and redaction. A scan runs each selected rule's regular expression once over the text
 * (skipping rules whose pre-test literal is absent), validates the matches, and keeps the
 * non-overlapping findings by rule priority. Nothing here keeps the matched values: findings are
 * positions and kinds.
 */
import { RULES } from './detectors.js';
import type { Category, Rule } from './detectors.js';

export interface Finding {
  kind: string;
  category: Category;
  start: number;
  end: number;
  /** The rule's priority (its index in RULES): lower wins an overlap. */
  priority: number;
}

/** The rules of some categories, in priority order (made once per distinct selection). */
const selections = new Map<string, readonly Rule[]>();
export function rulesFor(categories: readonly Category[]): readonly Rule[] {
  const key = [...categories].sort().join(',');
  let rules = selections.get(key);
  if (!rules) {
    rules = Object.freeze(RULES.filter((r) => categories.includes(r.category)));
    selections.set(key, rules);
  }
  return rules;
}

const PRIORITY = new Map<Rule, number>(RULES.map((r, i) => [r, i]));

/** The findings in a text: sorted by position, never overlapping. */
export function scan(text: string, rules: readonly Rule[]): Finding[] {
  if (text.length === 0) return [];
  const raw: Finding[] = [];
  for (const rule of rules) {
    if (rule.hint !== undefined && !text.includes(rule.hint)) continue;
    const priority = PRIORITY.get(rule) ?? RULES.length;
    const re = rule.regex;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      let start = m.index;
      let end = start + m[0].length;
      if (rule.group !== undefined) {
        const span = m.indices?.[rule.group];
        if (!span) continue;
        [start, end] = span;
      }
      if (rule.validate) {
        const v = rule.validate(text.slice(start, end), text, start);
        if (v === false || v === 0) continue;
        if (typeof v === 'number') end = start + v;
      }
      raw.push({ kind: rule.kind, category: rule.category, start, end, priority });
    }
  }
  return resolveOverlaps(raw);
}

/** Keeps the findings that win their overlaps (higher priority, then longer), sorted by start. */
function resolveOverlaps(found: Finding[]): Finding[] {
  if (found.length < 2) return found;
  found.sort((a, b) => a.priority - b.priority || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Finding[] = []; // sorted by start
  for (const f of found) {
    // The first kept finding that ends after f starts: f overlaps it if it also starts before f ends.
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid]!.end <= f.start) lo = mid + 1;
      else hi = mid;
    }
    if (lo < kept.length && kept[lo]!.start < f.end) continue;
    kept.splice(lo, 0, f);
  }
  return kept;
}

/** Findings that stay findings however a growing text (a stream) goes on: they end two characters before its end. */
export function settled(findings: readonly Finding[], length: number): Finding[] {
  return findings.filter((f) => f.end + 2 <= length);
}

/** The text with each finding replaced by its mask. */
export function redact(text: string, findings: readonly Finding[], mask: (kind: string) => string): string {
  if (findings.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of findings) {
    out += text.slice(at, f.start) + mask(f.kind);
    at = f.end;
  }
  return out + text.slice(at);
}

/** Counts by kind and by category, and the total. */
export interface Tally {
  total: number;
  kinds: Record<string, number>;
  categories: Partial<Record<Category, number>>;
}

export function newTally(): Tally {
  return { total: 0, kinds: {}, categories: {} };
}

export function addTo(tally: Tally, findings: readonly Finding[]): void {
  for (const f of findings) {
    tally.total++;
    tally.kinds[f.kind] = (tally.kinds[f.kind] ?? 0) + 1;
    tally.categories[f.category] = (tally.categories[f.category] ?? 0) + 1;
  }
}
