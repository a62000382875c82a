/**
 * What the PII checks look for: one rule per pattern, each with a kind (what it is), a category
 * (what a config selects), a regular expression compiled once at load, an optional cheap pre-test
 * (a literal the text must contain for the rule to run at all) and a validator (checksums and
 * number rules) that turns a pattern match into a finding. Rules are listed by priority: when two
 * findings overlap, the earlier rule wins (a JWT inside "Bearer ..." is a JWT).
 */
import { isIPv6 } from 'node:net';
import { aadhaar, abaRouting, brazilCpf, ibanLength, internationalPhone, ipv4, paymentCard, spanishId, trunkPhone, usSsn } from './validators.js';

export const CATEGORIES = ['email', 'phone', 'credit_card', 'national_id', 'bank_account', 'ip_address', 'secret'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Rule {
  kind: string;
  category: Category;
  regex: RegExp;
  /** A literal the text must contain for the rule to be worth running. */
  hint?: string;
  /** Only this capture group is the finding (the rest is context, like "routing number:"). */
  group?: number;
  /** true to accept, false to reject, or the accepted length (a shorter finding) from the match start. */
  validate?(match: string, text: string, start: number): boolean | number;
}

const rules: Rule[] = [
  // Secrets first: they are the costliest to leak and the most specific patterns.
  {
    kind: 'PRIVATE_KEY',
    category: 'secret',
    hint: '-----BEGIN ',
    regex: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { kind: 'JWT', category: 'secret', hint: 'eyJ', regex: /(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?![\w-])/g },
  { kind: 'ANTHROPIC_KEY', category: 'secret', hint: 'sk-ant-', regex: /(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'OPENAI_KEY', category: 'secret', hint: 'sk-', regex: /(?<![\w-])sk-(?!ant-)[A-Za-z0-9_-]{20,}/g },
  { kind: 'AWS_ACCESS_KEY', category: 'secret', regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  {
    kind: 'AWS_SECRET_KEY',
    category: 'secret',
    regex: /\baws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
    group: 1,
  },
  { kind: 'GITHUB_TOKEN', category: 'secret', hint: 'gh', regex: /(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![\w-])/g },
  { kind: 'SLACK_TOKEN', category: 'secret', hint: 'xox', regex: /(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}(?![\w-])/g },
  { kind: 'GOOGLE_API_KEY', category: 'secret', hint: 'AIza', regex: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g },
  { kind: 'STRIPE_KEY', category: 'secret', hint: 'k_', regex: /(?<![\w-])[sr]k_(?:live|test)_[0-9A-Za-z]{16,}(?![\w-])/g },
  { kind: 'BEARER_TOKEN', category: 'secret', regex: /\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)(?![\w.~+/=-])/dgi, group: 1 },

  // Money.
  { kind: 'CREDIT_CARD', category: 'credit_card', regex: /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/g, validate: paymentCard },
  { kind: 'IBAN', category: 'bank_account', regex: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,34}/g, validate: ibanLength },
  {
    kind: 'US_ROUTING_NUMBER',
    category: 'bank_account',
    regex: /\b(?:routing|aba|rtn)(?:\s*(?:number|no\.?|num|#))?\s*[:#]?\s*(\d{9})(?!\d)/dgi,
    group: 1,
    validate: (m) => abaRouting(m),
  },
  {
    kind: 'BANK_ACCOUNT',
    category: 'bank_account',
    regex: /\b(?:account|acct|a\/c)\s*(?:number|no\.?|num|#)\s*[:#]?\s*(\d(?:[ -]?\d){5,16})(?![\w-])/dgi,
    group: 1,
  },

  // National identifiers.
  { kind: 'US_SSN', category: 'national_id', regex: /(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])/g, validate: usSsn },
  {
    kind: 'US_SSN',
    category: 'national_id',
    regex: /\b(?:ssn|social security(?:\s+(?:number|no\.?))?)\s*[:#]?\s*(\d{9})(?!\d)/dgi,
    group: 1,
    validate: usSsn,
  },
  {
    kind: 'UK_NINO',
    category: 'national_id',
    regex: /(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/g,
  },
  { kind: 'ES_DNI', category: 'national_id', regex: /(?<![A-Za-z0-9])\d{8}-?[A-HJ-NP-TV-Z](?![A-Za-z0-9])/g, validate: spanishId },
  { kind: 'ES_NIE', category: 'national_id', regex: /(?<![A-Za-z0-9])[XYZ]-?\d{7}-?[A-HJ-NP-TV-Z](?![A-Za-z0-9])/g, validate: spanishId },
  { kind: 'BR_CPF', category: 'national_id', regex: /(?<![\w.-])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w-]|\.\d)/g, validate: brazilCpf },
  { kind: 'IN_AADHAAR', category: 'national_id', regex: /(?<![\w-])[2-9]\d{3}([ -])\d{4}\1\d{4}(?![\w-])/g, validate: aadhaar },

  // Contact details.
  {
    kind: 'EMAIL',
    category: 'email',
    hint: '@',
    regex:
      /(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g,
  },
  {
    kind: 'PHONE',
    category: 'phone',
    hint: '+',
    regex: /(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?[ .-]?\d{1,14}(?:[ .-]\d{1,6}){0,6}(?![\w-]|\.\d)/g,
    validate: internationalPhone,
  },
  {
    // North American numbers: (415) 555-2671, 415-555-2671, 415.555.2671, 1 415 555 2671.
    kind: 'PHONE',
    category: 'phone',
    regex: /(?<![\w+.-])(?:1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}(?![\w-]|\.\d)/g,
  },
  {
    // National numbers with a trunk 0: 020 7946 0958, 07700 900123, 01 23 45 67 89, (030) 1234 5678.
    kind: 'PHONE',
    category: 'phone',
    regex: /(?<![\w+.-])(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .-]\d{2,8}){1,4}(?![\w-]|\.\d)/g,
    validate: trunkPhone,
  },

  // Network addresses.
  // IPv6 first: an IPv4-mapped address (::ffff:192.0.2.1) is one IPv6 finding, not an IPv4 one.
  {
    kind: 'IPV6',
    category: 'ip_address',
    hint: ':',
    regex: /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,15}){2,8}(?:%[\w.]+)?(?![\w:])/g,
    validate(match) {
      const addr = match.replace(/\.+$/, '');
      const bare = addr.split('%')[0]!;
      // "a::b" and "::1" are more often code or loopback than someone's address.
      if (!isIPv6(bare) || digitsAndHex(bare) < 4) return false;
      return addr.length;
    },
  },
  {
    kind: 'IPV4',
    category: 'ip_address',
    hint: '.',
    regex: /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g,
    validate: ipv4,
  },
];

function digitsAndHex(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s[i] !== ':' && s[i] !== '.') n++;
  return n;
}

export const RULES: readonly Rule[] = Object.freeze(rules);

/** Every kind a category holds (for documentation and tests). */
export function kindsOf(category: Category): string[] {
  return [...new Set(RULES.filter((r) => r.category === category).map((r) => r.kind))];
}
