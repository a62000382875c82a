/**
 * Checksums and number rules that turn a pattern match into a finding. Each takes the matched text
 * (separators included) and says whether it is the real thing.
 */

export function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) out += s[i];
  }
  return out;
}

/** The Luhn (mod 10) checksum of payment cards. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Whether a card number's prefix (IIN) and length belong to a known scheme. */
export function knownCardScheme(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 >= 2200 && p4 <= 2204) return n >= 16 && n <= 19; // Mir
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19; // Diners Club
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (p2 === 50 || (p2 >= 56 && p2 <= 58) || p4 === 6304 || p4 === 6759 || p4 === 6761 || p4 === 6762 || p4 === 6763) return n >= 13 && n <= 19; // Maestro
  return false;
}

export function paymentCard(match: string): boolean {
  const d = digitsOf(match);
  return d.length >= 13 && d.length <= 19 && knownCardScheme(d) && luhn(d);
}

/** IBAN lengths by country (ISO 13616 registry), for the countries most often seen. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SC: 31,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
});

/** ISO 7064 mod 97-10 over an IBAN's characters (country and check digits moved to the end). */
export function ibanChecksum(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    const v = c >= 65 ? c - 55 : c - 48; // A=10 … Z=35
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

/**
 * The length (in the text, spaces included) of the IBAN at the start of a candidate, or 0. The
 * candidate may run on into the next word ("DE89 … 00 AND"), so the country's registered length
 * (or, for other countries, the longest length from 34 down to 15 that checks) decides where it ends.
 */
export function ibanLength(candidate: string, text: string, start: number): number {
  const chars: number[] = []; // offsets of the IBAN characters in the candidate
  for (let i = 0; i < candidate.length; i++) if (candidate[i] !== ' ') chars.push(i);
  const compact = candidate.replace(/ /g, '');
  const country = compact.slice(0, 2);
  const known = IBAN_LENGTHS[country];
  const lengths = known ? [known] : Array.from({ length: 20 }, (_, i) => 34 - i);
  for (const n of lengths) {
    if (n > compact.length) continue;
    const end = chars[n - 1]! + 1;
    const after = text.charCodeAt(start + end);
    // The IBAN must end at a word boundary, not in the middle of the next group.
    if (isAlnum(after)) continue;
    if (ibanChecksum(compact.slice(0, n))) return end;
  }
  return 0;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** ABA routing number checksum: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10). */
export function abaRouting(digits: string): boolean {
  if (digits.length !== 9) return false;
  const d = (i: number) => digits.charCodeAt(i) - 48;
  const sum = 3 * (d(0) + d(3) + d(6)) + 7 * (d(1) + d(4) + d(7)) + (d(2) + d(5) + d(8));
  return sum % 10 === 0 && digits !== '000000000';
}

/** A US Social Security number: area not 000, 666 or 900–999; group not 00; serial not 0000; not a published sample. */
export function usSsn(match: string): boolean {
  const d = digitsOf(match);
  if (d.length !== 9) return false;
  const area = Number(d.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (d.slice(3, 5) === '00' || d.slice(5) === '0000') return false;
  return d !== '078051120' && d !== '219099999' && d !== '123456789';
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** A Spanish DNI (8 digits and a check letter) or NIE (X, Y or Z, 7 digits and a check letter). */
export function spanishId(match: string): boolean {
  const s = match.replace(/-/g, '').toUpperCase();
  const lead = s[0] === 'X' ? '0' : s[0] === 'Y' ? '1' : s[0] === 'Z' ? '2' : s[0]!;
  const number = Number(lead + s.slice(1, -1));
  return DNI_LETTERS[number % 23] === s[s.length - 1];
}

/** A Brazilian CPF: two mod-11 check digits; all-equal digits are not valid numbers. */
export function brazilCpf(match: string): boolean {
  const d = digitsOf(match);
  if (d.length !== 11 || /^(\d)\1{10}$/.test(d)) return false;
  const check = (len: number) => {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += (d.charCodeAt(i) - 48) * (len + 1 - i);
    const r = (sum * 10) % 11;
    return (r === 10 ? 0 : r) === d.charCodeAt(len) - 48;
  };
  return check(9) && check(10);
}

// Verhoeff's dihedral-group checksum, used by India's Aadhaar numbers.
const V_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const V_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

export function verhoeff(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    c = V_D[c]![V_P[i % 8]![d]!]!;
  }
  return c === 0;
}

export function aadhaar(match: string): boolean {
  const d = digitsOf(match);
  return d.length === 12 && verhoeff(d);
}

/** Phone numbers with a `+`: 8 to 15 digits (E.164 allows at most 15). */
export function internationalPhone(match: string): boolean {
  const n = digitsOf(match).length;
  return n >= 8 && n <= 15;
}

/**
 * National numbers with a trunk 0 (UK, France, Germany, India, Australia...): 10 or 11 digits in
 * groups; with dots only as pairs (French style), so version strings are never phones.
 */
export function trunkPhone(match: string): boolean {
  const n = digitsOf(match).length;
  if (n < 10 || n > 11) return false;
  if (match.includes('.')) return match.split('.').every((g) => /^\(?\d{2}\)?$/.test(g));
  return true;
}

const VERSION_BEFORE = /(?:\bv|\bversion|\bver\.?|\brelease|\bbuild|\brev\.?)\s*$/i;

/** An IPv4 address, unless the words before it say it is a version number ("version 1.2.3.4"). */
export function ipv4(_match: string, text: string, start: number): boolean {
  return !VERSION_BEFORE.test(text.slice(Math.max(0, start - 12), start));
}
