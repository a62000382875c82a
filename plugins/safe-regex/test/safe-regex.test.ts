import { expect } from 'chai';
import { DEFAULT_LIMITS, RegexCache, RegexMeter, SafeRegexError, compileSafe, compileUncached, sharedCache, toRe2Syntax } from '../src/index.js';
import type { SafeRegexReason } from '../src/index.js';

/** The error compiling a pattern throws. */
function refusal(pattern: string, flags = '', options = {}): SafeRegexError {
  try {
    compileUncached(pattern, flags, options);
  } catch (err) {
    expect(err).to.be.instanceOf(SafeRegexError);
    return err as SafeRegexError;
  }
  throw new Error(`expected ${JSON.stringify(pattern)} to be refused`);
}

function reasonOf(pattern: string, flags = '', options = {}): SafeRegexReason {
  return refusal(pattern, flags, options).reason;
}

describe('@waygate/safe-regex', () => {
  describe('the re2 engine', () => {
    it('matches with RE2 syntax and the flags i, m, s and u', () => {
      expect(compileSafe('^gpt-4').test('gpt-4o-mini')).to.equal(true);
      expect(compileSafe('^GPT').test('gpt-4o')).to.equal(false);
      expect(compileSafe('^GPT', 'i').test('gpt-4o')).to.equal(true);
      expect(compileSafe('^b$').test('a\nb')).to.equal(false);
      expect(compileSafe('^b$', 'm').test('a\nb')).to.equal(true);
      expect(compileSafe('a.b').test('a\nb')).to.equal(false);
      expect(compileSafe('a.b', 's').test('a\nb')).to.equal(true);
      expect(compileSafe('^.$', 'u').test('😀')).to.equal(true);
      // RE2-only syntax is fine: inline flags and Unicode classes without a flag.
      expect(compileSafe('(?i)secret').test('SECRET')).to.equal(true);
      expect(compileSafe('^\\pL+$').test('héllo')).to.equal(true);
      expect(compileSafe('(?<word>\\w+)@').test('bob@example.com')).to.equal(true);
    });

    it("takes JavaScript's \\uXXXX and \\u{...} escapes, surrogate pairs as one character", () => {
      expect(compileSafe('\\u0041b').test('Ab')).to.equal(true);
      expect(compileSafe('[\\u0041-\\u005A]+').match('xyzABCd')).to.deep.equal({ index: 3, length: 3 });
      expect(compileSafe('^\\uD83D\\uDE00$').test('😀')).to.equal(true);
      expect(compileSafe('^\\u{1F600}$').test('😀')).to.equal(true);
      expect(toRe2Syntax('a\\\\u0041')).to.equal('a\\\\u0041'); // an escaped backslash, then the letters u0041
      expect(compileSafe('a\\\\u0041').test('a\\u0041')).to.equal(true);
    });

    it('runs patterns that backtrack catastrophically in JavaScript in linear time', () => {
      // With RegExp each of these takes longer than the age of the universe (2^60 paths); here they return.
      const hostile = `${'a'.repeat(60)}!`;
      expect(compileSafe('^(a+)+$').test(hostile)).to.equal(false);
      expect(compileSafe('^(a|a)*$').test(hostile)).to.equal(false);
      expect(compileSafe('^(a|aa)+$').match(hostile)).to.equal(null);
      expect(compileSafe('(x+x+)+y').replaceAll('x'.repeat(5000), '-')).to.deep.equal({ text: 'x'.repeat(5000), count: 0 });
      expect(compileSafe('^(a+)+$').test('a'.repeat(100_000))).to.equal(true);
    });

    it('reports the leftmost match in UTF-16 indices', () => {
      expect(compileSafe('b+').match('😀é bb x')).to.deep.equal({ index: 4, length: 2 });
      expect(compileSafe('a|ab').match('xab')).to.deep.equal({ index: 1, length: 1 }); // leftmost-first, as JavaScript
      expect(compileSafe('z').match('abc')).to.equal(null);
    });

    it('replaces every match with JavaScript replacement patterns, and counts them', () => {
      const re = compileSafe('(\\w+)@(?<host>example)\\.com');
      expect(re.replaceAll('bob@example.com and al@example.com', '$1 at $<host> [$&] $$')).to.deep.equal({
        text: 'bob at example [bob@example.com] $ and al at example [al@example.com] $',
        count: 2,
      });
      expect(compileSafe('a').replaceAll('banana', '_')).to.deep.equal({ text: 'b_n_n_', count: 3 });
    });

    it('tells a settled match: one that ends before the last character', () => {
      expect(compileSafe('bad').settled('so bad')).to.equal(false);
      expect(compileSafe('bad').settled('so bad!')).to.equal(true);
      expect(compileSafe('\\bbad\\b').settled('so bad')).to.equal(false); // "badge" may follow
      expect(compileSafe('\\bbad\\b').settled('so badge')).to.equal(false);
      expect(compileSafe('\\bbad\\b').settled('so bad!')).to.equal(true);
      expect(compileSafe('bad$').settled('this is bad, ')).to.equal(false);
      expect(compileSafe('bad$', 'm').settled('this is bad\nok')).to.equal(true);
      // Any settled match counts, not only the leftmost-first one: "a" is a match whatever follows.
      expect(compileSafe('ab|a').settled('ab')).to.equal(true);
    });
  });

  describe('refusals (SafeRegexError)', () => {
    it('a backreference or a lookaround: unsupported, with a message that says which', () => {
      expect(reasonOf('(a)\\1')).to.equal('unsupported');
      expect(refusal('(a)\\1').message).to.match(/^not supported by the linear-time regex engine \(RE2 syntax\): backreferences/);
      expect(refusal('(?<n>a)\\k<n>').message).to.match(/backreferences/);
      expect(reasonOf('a(?=b)')).to.equal('unsupported');
      expect(refusal('a(?!b)').message).to.match(/lookahead and lookbehind/);
      expect(refusal('(?<=a)b').message).to.match(/lookahead and lookbehind/);
      expect(reasonOf('\\q')).to.equal('unsupported'); // JavaScript reads it as "q"; RE2 refuses the escape
    });

    it('a pattern that is no regular expression at all: invalid', () => {
      expect(reasonOf('a(')).to.equal('invalid');
      expect(refusal('[').message).to.match(/^not a valid regular expression: /);
    });

    it('a pattern longer than maxLength (default 1000), or larger than maxProgramSize (default 2000)', () => {
      expect(DEFAULT_LIMITS).to.deep.equal({ maxLength: 1000, maxProgramSize: 2000 });
      expect(() => compileUncached('x'.repeat(1000))).not.to.throw();
      expect(reasonOf('x'.repeat(1001))).to.equal('too_long');
      expect(refusal('x'.repeat(1001)).message).to.equal('longer than 1000 characters (it has 1001)');
      expect(reasonOf('abcdef', '', { maxLength: 5 })).to.equal('too_long');
      expect(reasonOf('a{1000}b{1000}c{1000}')).to.equal('too_complex');
      expect(refusal('a{1000}b{1000}c{1000}').message).to.match(/compiles to 300\d instructions, more than the limit of 2000/);
      expect(() => compileUncached('a{1000}b{1000}c{1000}', '', { maxProgramSize: 5000 })).not.to.throw();
      expect(reasonOf('a{100}', '', { maxProgramSize: 50 })).to.equal('too_complex');
    });

    it('flags other than i, m, s, u, or one twice', () => {
      for (const f of ['g', 'y', 'ii', 'x', 'd']) expect(reasonOf('a', f), f).to.equal('flags');
      expect(reasonOf('a', 'g', { engine: 'javascript' })).to.equal('flags');
    });
  });

  describe('the javascript engine (an operator opt-in)', () => {
    it('takes what RE2 refuses, and never calls a lookahead settled', () => {
      const re = compileSafe('bad(?! news)', '', { engine: 'javascript' });
      expect(re.engine).to.equal('javascript');
      expect(re.test('bad things')).to.equal(true);
      expect(re.test('bad news')).to.equal(false);
      expect(re.settled('bad things here')).to.equal(false);
      expect(compileSafe('(a)\\1', '', { engine: 'javascript' }).match('xaa')).to.deep.equal({ index: 1, length: 2 });
      expect(compileSafe('bad', '', { engine: 'javascript' }).settled('so bad!')).to.equal(true);
      expect(compileSafe('(\\w)x', '', { engine: 'javascript' }).replaceAll('axbx', '[$1]')).to.deep.equal({ text: '[a][b]', count: 2 });
    });

    it('still bounds the length and refuses what RegExp refuses', () => {
      expect(reasonOf('x'.repeat(1001), '', { engine: 'javascript' })).to.equal('too_long');
      expect(reasonOf('a(', '', { engine: 'javascript' })).to.equal('invalid');
    });
  });

  describe('the cache', () => {
    it('compiles a pattern once per (engine, flags, pattern): the same object comes back', () => {
      const cache = new RegexCache(10);
      const a = cache.compile('^cached-[0-9]+$');
      expect(cache.compile('^cached-[0-9]+$')).to.equal(a);
      expect(cache.size).to.equal(1);
      expect(cache.compile('^cached-[0-9]+$', 'i')).not.to.equal(a);
      expect(cache.compile('^cached-[0-9]+$', '', { engine: 'javascript' }).engine).to.equal('javascript');
      expect(cache.size).to.equal(3);
      expect(compileSafe('^shared-once$')).to.equal(compileSafe('^shared-once$'));
      expect(sharedCache.max).to.equal(1000);
    });

    it('is bounded, and drops the least recently used pattern first', () => {
      const cache = new RegexCache(3);
      const a = cache.compile('a');
      cache.compile('b');
      cache.compile('c');
      expect(cache.compile('a')).to.equal(a); // a is now the most recent
      cache.compile('d'); // drops b
      expect(cache.size).to.equal(3);
      expect(cache.compile('a')).to.equal(a);
      const b = cache.compile('b'); // compiled again: drops c
      expect(cache.size).to.equal(3);
      expect(cache.compile('b')).to.equal(b);
      expect(() => new RegexCache(0)).to.throw(RangeError);
    });

    it('checks the limits on a cached pattern too', () => {
      const cache = new RegexCache(10);
      cache.compile('a{100}');
      expect(() => cache.compile('a{100}', '', { maxProgramSize: 50 })).to.throw(SafeRegexError, /too complex/);
      expect(() => cache.compile('a{100}', '', { maxLength: 3 })).to.throw(SafeRegexError, /longer than 3/);
      expect(cache.compile('a{100}').test('a'.repeat(100))).to.equal(true);
    });

    it('does not cache what it refuses', () => {
      const cache = new RegexCache(10);
      expect(() => cache.compile('(a)\\1')).to.throw(SafeRegexError);
      expect(cache.size).to.equal(0);
    });
  });

  describe('the work meter', () => {
    it('charges program size × (characters + 1) per pass, and refuses the pass that would go over, before running it', () => {
      const re = compileSafe('abc');
      const text = 'x'.repeat(99);
      const meter = new RegexMeter(re.cost * 100 * 3);
      expect(re.test(text, meter)).to.equal(false);
      expect(meter.spent).to.equal(re.cost * 100);
      re.test(text, meter);
      re.test(text, meter);
      expect(meter.spent).to.equal(re.cost * 300);
      let err: unknown;
      try {
        re.test(text, meter);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(SafeRegexError);
      expect((err as SafeRegexError).reason).to.equal('work_limit');
      expect((err as SafeRegexError).message).to.match(/^over the regex work limit of this request \(\d+ units/);
      expect(meter.spent, 'nothing charged for the refused pass').to.equal(re.cost * 300);
      // A fresh meter takes it.
      expect(re.test(text, new RegexMeter(re.cost * 100))).to.equal(false);
    });

    it('charges a bigger pattern more, so a long text with a large pattern is refused outright', () => {
      const big = compileSafe('(?:a|b)*a[ab]{500}[0-9]');
      expect(big.cost).to.be.greaterThan(500);
      const meter = new RegexMeter(10_000_000);
      expect(() => big.test('ab'.repeat(50_000), meter)).to.throw(SafeRegexError, /work limit/);
      expect(meter.spent).to.equal(0);
      expect(compileSafe('^gpt-4').test('ab'.repeat(50_000), meter)).to.equal(false);
    });

    it('charges the passes each operation makes: match and replaceAll test first, and scan again only on a hit', () => {
      const re = compileSafe('b');
      const m1 = new RegexMeter(1e9);
      re.match('aaaa', m1);
      expect(m1.spent).to.equal(re.cost * 5);
      const m2 = new RegexMeter(1e9);
      re.match('abaa', m2);
      expect(m2.spent).to.equal(re.cost * 10);
      const m3 = new RegexMeter(1e9);
      re.replaceAll('abab', 'x', m3);
      expect(m3.spent).to.equal(re.cost * 15);
      const m4 = new RegexMeter(1e9);
      re.settled('abab', m4);
      expect(m4.spent).to.equal(re.cost * 5);
    });
  });
});
