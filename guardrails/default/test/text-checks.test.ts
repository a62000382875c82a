import { expect } from 'chai';
import {
  alllowercase,
  alluppercase,
  characterCount,
  contains,
  containsCode,
  countCharacters,
  countSentences,
  countWords,
  endsWith,
  jsonKeys,
  notNull,
  regexMatch,
  regexReplace,
  createRegexChecks,
  sentenceCount,
  wordCount,
} from '../src/index.js';
import { RegexMeter, SafeRegexError } from '@waygate/safe-regex';
import { compiledRegexCount } from '../src/common.js';
import { answer, input, rejects, run } from './helpers.js';

const parse = <T>(check: { params: { parse(v: unknown): T } }, raw: unknown): T => check.params.parse(raw);

describe('default text checks', () => {
  describe('regexMatch', () => {
    it('passes when the request text matches the rule, fails when it does not', async () => {
      expect((await run(regexMatch, { rule: '\\border\\s+#\\d+' }, { text: 'where is order #123?' })).verdict).to.equal(true);
      expect((await run(regexMatch, { rule: '\\border\\s+#\\d+' }, { text: 'hello' })).verdict).to.equal(false);
    });
    it('looks at the answer after the call', async () => {
      expect((await run(regexMatch, { rule: '^OK' }, { text: 'nope', ...answer('OK, done') })).verdict).to.equal(true);
      expect((await run(regexMatch, { rule: '^OK' }, { text: 'OK', ...answer('nope') })).verdict).to.equal(false);
    });
    it('inverts with not', async () => {
      expect((await run(regexMatch, { rule: 'secret', not: true }, { text: 'a secret' })).verdict).to.equal(false);
      expect((await run(regexMatch, { rule: 'secret', not: true }, { text: 'nothing' })).verdict).to.equal(true);
    });
    it('takes flags as an extension (i)', async () => {
      expect((await run(regexMatch, { rule: 'secret' }, { text: 'SECRET' })).verdict).to.equal(false);
      expect((await run(regexMatch, { rule: 'secret', flags: 'i' }, { text: 'SECRET' })).verdict).to.equal(true);
    });
    it('reports where it matched, never the matched text', async () => {
      const r = await run(regexMatch, { rule: 'sk-\\w+' }, { text: 'key sk-abc123' });
      expect(r.data).to.deep.include({ match: { index: 4, length: 9 } });
      expect(JSON.stringify(r.data)).to.not.include('sk-abc123');
    });
    it('rejects a missing, empty or invalid rule, bad flags and unknown keys', () => {
      expect(rejects(regexMatch, {})).to.match(/rule/);
      expect(rejects(regexMatch, { rule: '' })).to.match(/rule/);
      expect(rejects(regexMatch, { rule: 'a(' })).to.match(/^rule: rule is not a valid regular expression/);
      expect(rejects(regexMatch, { rule: 'a', flags: 'gg' })).to.match(/flags/);
      expect(rejects(regexMatch, { rule: 'a', regex: 'b' })).to.match(/regex/);
      expect(rejects(regexMatch, { rule: 'a', not: 'yes' })).to.match(/not/);
    });
    it('compiles a rule once: the same pattern parsed again is the same RegExp, and runs compile nothing', async () => {
      const a = parse(regexMatch, { rule: 'compile-once-[0-9]+' });
      const b = parse(regexMatch, { rule: 'compile-once-[0-9]+', not: true });
      expect(a.regex).to.equal(b.regex);
      const before = compiledRegexCount();
      for (let i = 0; i < 5; i++) await regexMatch.run(input(regexMatch, { rule: 'compile-once-[0-9]+' }, { text: `compile-once-${i}` }));
      expect(compiledRegexCount()).to.equal(before);
    });
    describe('on RE2 (@waygate/safe-regex)', () => {
      it('runs a catastrophic pattern in linear time (RegExp would backtrack for ages)', async () => {
        const hostile = `${'a'.repeat(60)}!`;
        expect((await run(regexMatch, { rule: '^(a|a)*$' }, { text: hostile })).verdict).to.equal(false);
        expect((await run(regexMatch, { rule: '^(a+)+$', not: true }, { text: hostile })).verdict).to.equal(true);
        expect((await run(regexReplace, { rule: '(a+)+b' }, { text: hostile })).data).to.deep.include({ matches: 0 });
      });
      it('refuses what RE2 cannot run, naming the rule, and points to the opt-in', () => {
        expect(rejects(regexMatch, { rule: '(a)\\1' })).to.match(
          /^rule: rule is not supported by the linear-time regex engine \(RE2 syntax\): backreferences/,
        );
        expect(rejects(regexReplace, { rule: '/(?<=\\$)\\d+/g' })).to.match(/^rule: rule is not supported .*lookahead and lookbehind/);
        expect(rejects(regexMatch, { rule: 'x'.repeat(1001) })).to.match(/^rule: rule is longer than 1000 characters/);
        expect(rejects(regexMatch, { rule: 'a{1000}b{1000}c{1000}' })).to.match(/^rule: rule is too complex/);
        expect(rejects(regexMatch, { rule: 'a', regexEngine: 'pcre' })).to.match(/regexEngine/);
      });
      it('with regexEngine "javascript" (the config file only), RegExp semantics', async () => {
        expect((await run(regexMatch, { rule: '^(?!.*password).*$', regexEngine: 'javascript' }, { text: 'all fine' })).verdict).to.equal(true);
        expect((await run(regexReplace, { rule: '(\\w)\\1', regexEngine: 'javascript' }, { text: 'book keeper' })).transformedText).to.equal(
          'b[REDACTED]k k[REDACTED]per',
        );
        expect(regexMatch.fileOnlyParams).to.deep.equal(['regexEngine']);
        expect(regexReplace.fileOnlyParams).to.deep.equal(['regexEngine']);
      });
      it('charges the request budget it is given, and stops at it', async () => {
        const meter = new RegexMeter(1000);
        const i = input(regexMatch, { rule: 'secret' }, { text: 'x'.repeat(2000) });
        expect(() => regexMatch.run({ ...i, regexMeter: meter })).to.throw(SafeRegexError, /work limit/);
        expect((await regexMatch.run({ ...i, regexMeter: new RegexMeter(1e9) })).verdict).to.equal(false);
        const p = parse(regexMatch, { rule: 'secret', not: true });
        expect(() => regexMatch.partial!('x'.repeat(2000), p, meter)).to.throw(SafeRegexError);
      });
      it('takes limits from createRegexChecks', () => {
        const { regexMatch: short } = createRegexChecks({ maxLength: 5 });
        expect(rejects(short, { rule: 'abcdef' })).to.match(/longer than 5 characters/);
      });
    });
    describe('partial (streams)', () => {
      it('fails early with not once a match is settled', () => {
        const p = parse(regexMatch, { rule: 'forbidden', not: true });
        expect(regexMatch.partial!('all is fine so far', p)).to.equal(undefined);
        expect(regexMatch.partial!('this is forbidden stuff', p)).to.equal(false);
      });
      it('waits while a match touches the end of the text (a $ or \\b may still fail)', () => {
        const anchored = parse(regexMatch, { rule: 'bad$', not: true });
        expect(regexMatch.partial!('this is bad', anchored)).to.equal(undefined);
        const word = parse(regexMatch, { rule: '\\bbad\\b', not: true });
        expect(regexMatch.partial!('so bad', word)).to.equal(undefined); // "badge" may follow
        expect(regexMatch.partial!('so bad!', word)).to.equal(false);
      });
      it('never decides for a pattern with a lookahead, nor without not', () => {
        // Lookahead exists only on the javascript engine (a config-file opt-in); RE2 refuses it.
        expect(regexMatch.partial!('bad things here', parse(regexMatch, { rule: 'bad(?! news)', not: true, regexEngine: 'javascript' }))).to.equal(
          undefined,
        );
        expect(regexMatch.partial!('no match here', parse(regexMatch, { rule: 'x' }))).to.equal(undefined);
      });
    });
  });

  describe('regexReplace', () => {
    it('replaces every match and returns the transformed text; passes by default', async () => {
      const r = await run(regexReplace, { rule: '\\d{3}-\\d{4}' }, { text: 'call 555-1234 or 555-9876' });
      expect(r).to.deep.include({ verdict: true, transformedText: 'call [REDACTED] or [REDACTED]' });
      expect(r.data).to.deep.include({ matches: 2 });
      expect(regexReplace.mutates).to.equal(true);
    });
    it('uses redactText, with String.replace patterns', async () => {
      const r = await run(regexReplace, { rule: '(\\w+)@example\\.com', redactText: '$1@***' }, { text: 'mail bob@example.com' });
      expect(r.transformedText).to.equal('mail bob@***');
    });
    it('changes nothing when nothing matches', async () => {
      const r = await run(regexReplace, { rule: 'zzz' }, { text: 'hello' });
      expect(r.verdict).to.equal(true);
      expect(r.transformedText).to.equal(undefined);
    });
    it('fails with failOnDetection when something matched, still transforming', async () => {
      const r = await run(regexReplace, { rule: 'secret', failOnDetection: true }, { text: 'a secret' });
      expect(r).to.deep.include({ verdict: false, transformedText: 'a [REDACTED]' });
    });
    it('works on the answer after the call', async () => {
      const r = await run(regexReplace, { rule: 'darn', redactText: '****' }, answer('oh darn it'));
      expect(r.transformedText).to.equal('oh **** it');
    });
    it('is the same on repeated runs (the shared global regex keeps no state)', async () => {
      const i = input(regexReplace, { rule: 'a' }, { text: 'banana' });
      expect((await regexReplace.run(i)).transformedText).to.equal('b[REDACTED]n[REDACTED]n[REDACTED]');
      expect((await regexReplace.run(i)).transformedText).to.equal('b[REDACTED]n[REDACTED]n[REDACTED]');
    });
    it('takes a rule written as a literal, /pattern/flags, as Portkey does', async () => {
      const r = await run(regexReplace, { rule: '/\\b\\d{16}\\b/g' }, { text: 'cards 4111111111111111 and 4242424242424242' });
      expect(r.transformedText).to.equal('cards [REDACTED] and [REDACTED]');
      const i = await run(regexReplace, { rule: '/secret/i' }, { text: 'a SECRET and a Secret' });
      expect(i.transformedText, 'flags apply; every match is replaced').to.equal('a [REDACTED] and a [REDACTED]');
      const both = await run(regexReplace, { rule: '/x/im', flags: 'i' }, { text: 'X' });
      expect(both.transformedText).to.equal('[REDACTED]');
      // Slashes that do not wrap the whole rule are part of the pattern.
      const path = await run(regexReplace, { rule: 'api/v1' }, { text: 'GET /api/v1/x' });
      expect(path.transformedText).to.equal('GET /[REDACTED]/x');
      expect(rejects(regexReplace, { rule: '/x/y' })).to.match(/sticky/);
    });
    it('rejects an invalid rule and one that matches the empty string', () => {
      expect(rejects(regexReplace, { rule: '[' })).to.match(/not a valid regular expression/);
      expect(rejects(regexReplace, { rule: 'x*' })).to.match(/empty string/);
      expect(rejects(regexReplace, { rule: 'x', redactText: 5 })).to.match(/redactText/);
    });
    it('partial: fails early only with failOnDetection', () => {
      expect(regexReplace.partial!('a secret here', parse(regexReplace, { rule: 'secret', failOnDetection: true }))).to.equal(false);
      expect(regexReplace.partial!('a secret here', parse(regexReplace, { rule: 'secret' }))).to.equal(undefined);
    });
  });

  describe('contains', () => {
    const words = ['apple', 'pear'];
    it('any (the default): at least one word', async () => {
      expect((await run(contains, { words }, answer('I like pears'))).verdict).to.equal(true);
      expect((await run(contains, { words }, answer('I like plums'))).verdict).to.equal(false);
    });
    it('all: every word', async () => {
      expect((await run(contains, { words, operator: 'all' }, answer('apple and pear'))).verdict).to.equal(true);
      expect((await run(contains, { words, operator: 'all' }, answer('apple only'))).verdict).to.equal(false);
    });
    it('none: no word; the data lists what was found', async () => {
      expect((await run(contains, { words, operator: 'none' }, answer('plums'))).verdict).to.equal(true);
      const r = await run(contains, { words, operator: 'none' }, answer('an apple'));
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ found: ['apple'], missing: ['pear'] });
    });
    it('is case-sensitive, as in Portkey', async () => {
      expect((await run(contains, { words: ['Apple'] }, answer('apple'))).verdict).to.equal(false);
    });
    it('checks the request before the call', async () => {
      expect((await run(contains, { words: ['drop table'], operator: 'none' }, { text: 'please drop table users' })).verdict).to.equal(false);
    });
    it('rejects missing or empty words and unknown operators', () => {
      expect(rejects(contains, {})).to.match(/words/);
      expect(rejects(contains, { words: [] })).to.match(/at least one word/);
      expect(rejects(contains, { words: [''] })).to.match(/empty word/);
      expect(rejects(contains, { words: ['a'], operator: 'some' })).to.match(/operator/);
    });
    it('partial: "none" fails at the first forbidden word; the others never decide early', () => {
      const none = parse(contains, { words, operator: 'none' });
      expect(contains.partial!('so far so good', none)).to.equal(undefined);
      expect(contains.partial!('here comes an apple', none)).to.equal(false);
      expect(contains.partial!('nothing yet', parse(contains, { words }))).to.equal(undefined);
    });
  });

  describe('counts', () => {
    it('counts words, sentences and characters sensibly', () => {
      expect(countWords('  Hello,   world - again  ')).to.equal(3);
      expect(countWords('naïve café 東京')).to.equal(3);
      expect(countWords('')).to.equal(0);
      expect(countSentences('One. Two! Three? Four')).to.equal(4);
      expect(countSentences('Pi is 3.14 today. Yes...')).to.equal(2);
      expect(countSentences('He said "hi." Then left.')).to.equal(2);
      expect(countSentences('...')).to.equal(0);
      expect(countSentences('你好。再见。')).to.equal(2);
      expect(countCharacters('a😀b')).to.equal(3);
    });

    it('wordCount: within the range passes, outside fails, not inverts', async () => {
      expect((await run(wordCount, { minWords: 2, maxWords: 4 }, { text: 'one two three' })).verdict).to.equal(true);
      expect((await run(wordCount, { minWords: 2, maxWords: 4 }, { text: 'one' })).verdict).to.equal(false);
      expect((await run(wordCount, { minWords: 2, maxWords: 4 }, answer('a b c d e'))).verdict).to.equal(false);
      expect((await run(wordCount, { minWords: 2, maxWords: 4, not: true }, answer('a b c d e'))).verdict).to.equal(true);
      const r = await run(wordCount, {}, { text: 'one two' });
      expect(r.data).to.deep.include({ count: 2, min: 0, max: 99999 });
    });
    it('sentenceCount and characterCount work the same way', async () => {
      expect((await run(sentenceCount, { maxSentences: 1 }, answer('One. Two.'))).verdict).to.equal(false);
      expect((await run(sentenceCount, { minSentences: 2 }, answer('One. Two.'))).verdict).to.equal(true);
      expect((await run(sentenceCount, { minSentences: 2, not: true }, answer('One. Two.'))).verdict).to.equal(false);
      expect((await run(characterCount, { maxCharacters: 5 }, answer('abcdef'))).verdict).to.equal(false);
      expect((await run(characterCount, { minCharacters: 3, maxCharacters: 5 }, answer('abcd'))).verdict).to.equal(true);
      expect((await run(characterCount, { maxCharacters: 5, not: true }, answer('abcdef'))).verdict).to.equal(true);
    });
    it('rejects negative, fractional and inverted bounds', () => {
      expect(rejects(wordCount, { minWords: -1 })).to.match(/minWords/);
      expect(rejects(wordCount, { maxWords: 2.5 })).to.match(/maxWords/);
      expect(rejects(wordCount, { minWords: 5, maxWords: 2 })).to.match(/minWords is greater than maxWords/);
      expect(rejects(sentenceCount, { minSentences: 3, maxSentences: 1 })).to.match(/minSentences/);
      expect(rejects(characterCount, { maxCharacters: 'ten' })).to.match(/maxCharacters/);
      expect(rejects(characterCount, { maxChars: 10 })).to.match(/maxChars/);
    });
    it('partial: fails once the maximum is passed, never with not, never on a minimum', () => {
      const w = parse(wordCount, { maxWords: 3 });
      expect(wordCount.partial!('one two thr', w)).to.equal(undefined);
      expect(wordCount.partial!('one two three four', w)).to.equal(false);
      expect(wordCount.partial!('one two three four', parse(wordCount, { maxWords: 3, not: true }))).to.equal(undefined);
      expect(wordCount.partial!('one', parse(wordCount, { minWords: 3 }))).to.equal(undefined);
      const c = parse(characterCount, { maxCharacters: 4 });
      expect(characterCount.partial!('abcd', c)).to.equal(undefined);
      expect(characterCount.partial!('abcde', c)).to.equal(false);
      const s = parse(sentenceCount, { maxSentences: 1 });
      // "One. Two" might still become "One. Two" + "..." : only settled sentence ends count.
      expect(sentenceCount.partial!('One. Two.', s)).to.equal(undefined);
      expect(sentenceCount.partial!('One. Two. Thr', s)).to.equal(false);
      expect(sentenceCount.partial!('Pi is 3.', s)).to.equal(undefined);
    });
  });

  describe('endsWith', () => {
    it('passes when the text ends with the suffix (trailing whitespace ignored), not inverts', async () => {
      expect((await run(endsWith, { suffix: 'Thanks!' }, answer('All done. Thanks!\n'))).verdict).to.equal(true);
      expect((await run(endsWith, { suffix: 'Thanks!' }, answer('All done.'))).verdict).to.equal(false);
      expect((await run(endsWith, { suffix: 'Thanks!', not: true }, answer('All done.'))).verdict).to.equal(true);
    });
    it('accepts the suffix followed by one final period, as Portkey does', async () => {
      const r = await run(endsWith, { suffix: 'HarryPortkey' }, answer('Hello from HarryPortkey.'));
      expect(r.verdict).to.equal(true);
      expect((r.data as { explanation: string }).explanation).to.include('final period');
      expect((await run(endsWith, { suffix: 'HarryPortkey' }, answer('Hello from HarryPortkey.\n'))).verdict).to.equal(true);
      expect((await run(endsWith, { suffix: 'HarryPortkey', not: true }, answer('Hello from HarryPortkey.'))).verdict).to.equal(false);
      expect((await run(endsWith, { suffix: 'HarryPortkey' }, answer('Hello from HarryPortkey..'))).verdict).to.equal(false);
      expect((await run(endsWith, { suffix: 'HarryPortkey' }, answer('Hello from HarryPortkey!'))).verdict).to.equal(false);
    });
    it('rejects an empty or missing suffix', () => {
      expect(rejects(endsWith, {})).to.match(/suffix/);
      expect(rejects(endsWith, { suffix: '' })).to.match(/empty/);
    });
  });

  describe('alluppercase / alllowercase', () => {
    it('look only at cased letters', async () => {
      expect((await run(alluppercase, {}, answer('HELLO, WORLD 42!'))).verdict).to.equal(true);
      expect((await run(alluppercase, {}, answer('HELLO, World'))).verdict).to.equal(false);
      expect((await run(alllowercase, {}, { text: 'hello, world 42' })).verdict).to.equal(true);
      expect((await run(alllowercase, {}, { text: 'Hello' })).verdict).to.equal(false);
    });
    it('invert with not and reject unknown keys', async () => {
      expect((await run(alluppercase, { not: true }, answer('hello'))).verdict).to.equal(true);
      expect((await run(alllowercase, { not: true }, answer('hello'))).verdict).to.equal(false);
      expect(rejects(alluppercase, { strict: true })).to.match(/strict/);
    });
    it('partial: one letter of the wrong case decides', () => {
      const p = parse(alluppercase, {});
      expect(alluppercase.partial!('HELLO THE', p)).to.equal(undefined);
      expect(alluppercase.partial!('HELLO There', p)).to.equal(false);
      expect(alllowercase.partial!('hello There', parse(alllowercase, {}))).to.equal(false);
    });
  });

  describe('notNull', () => {
    it('passes an answer with text or tool calls, fails an empty one; not inverts', async () => {
      expect((await run(notNull, {}, answer('hi'))).verdict).to.equal(true);
      expect((await run(notNull, {}, answer('  \n'))).verdict).to.equal(false);
      const toolCall = {
        choices: [
          { message: { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] } },
        ],
      };
      expect((await run(notNull, {}, answer('', toolCall))).verdict).to.equal(true);
      expect((await run(notNull, {}, answer('', { content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] }))).verdict).to.equal(true);
      expect((await run(notNull, { not: true }, answer(''))).verdict).to.equal(true);
    });
    it('runs only after the call and rejects bad parameters', () => {
      expect(notNull.hooks).to.deep.equal(['afterResponse']);
      expect(rejects(notNull, { not: 1 })).to.match(/not/);
    });
  });

  describe('containsCode', () => {
    const text = 'Here:\n```py\nprint(1)\n```\nand\n```bash\nls\n```\n';
    it('finds fenced blocks by language tag, aliases included', async () => {
      expect((await run(containsCode, { format: 'Python' }, answer(text))).verdict).to.equal(true);
      expect((await run(containsCode, { format: 'Shell' }, answer(text))).verdict).to.equal(true);
      const r = await run(containsCode, { format: 'SQL' }, answer(text));
      expect(r.verdict).to.equal(false);
      expect(r.data).to.deep.include({ foundFormats: ['Python', 'Shell'] });
      expect((await run(containsCode, { format: 'C++' }, answer('```cpp\nint x;\n```'))).verdict).to.equal(true);
      expect((await run(containsCode, { format: 'Python' }, answer('no code here'))).verdict).to.equal(false);
    });
    it('inverts with not and rejects unknown formats', async () => {
      expect((await run(containsCode, { format: 'SQL', not: true }, answer('```sql\nselect 1\n```'))).verdict).to.equal(false);
      expect((await run(containsCode, { format: 'SQL', not: true }, answer('plain'))).verdict).to.equal(true);
      expect(rejects(containsCode, { format: 'Cobol' })).to.match(/format/);
      expect(rejects(containsCode, {})).to.match(/format/);
    });
    it('partial: with not, fails once a block of that language has opened', () => {
      const p = parse(containsCode, { format: 'SQL', not: true });
      expect(containsCode.partial!('Sure:\n```sq', p)).to.equal(undefined);
      expect(containsCode.partial!('Sure:\n```sql\nDROP', p)).to.equal(false);
    });
  });

  describe('jsonKeys', () => {
    const keys = ['name', 'age'];
    it('any / all / none over the JSON in the answer', async () => {
      expect((await run(jsonKeys, { keys }, answer('{"name":"x"}'))).verdict).to.equal(true);
      expect((await run(jsonKeys, { keys, operator: 'all' }, answer('{"name":"x"}'))).verdict).to.equal(false);
      expect((await run(jsonKeys, { keys, operator: 'all' }, answer('{"name":"x","age":3}'))).verdict).to.equal(true);
      expect((await run(jsonKeys, { keys, operator: 'none' }, answer('{"other":1}'))).verdict).to.equal(true);
      expect((await run(jsonKeys, { keys, operator: 'none' }, answer('{"other":1} and {"age":2}'))).verdict).to.equal(false);
    });
    it('finds JSON in fenced blocks and inside prose, nested braces and strings included', async () => {
      const fenced = 'Result:\n```json\n{"name": "a", "age": 1}\n```';
      expect((await run(jsonKeys, { keys, operator: 'all' }, answer(fenced))).verdict).to.equal(true);
      const prose = 'The record is {"meta": {"x": "}"}, "name": "b", "age": 2} as asked.';
      const r = await run(jsonKeys, { keys, operator: 'all' }, answer(prose));
      expect(r.verdict).to.equal(true);
      expect(r.data).to.deep.include({ presentKeys: ['name', 'age'] });
      // Only top-level keys count.
      expect((await run(jsonKeys, { keys: ['x'] }, answer(prose))).verdict).to.equal(false);
    });
    it('fails without any JSON object', async () => {
      expect((await run(jsonKeys, { keys }, answer('no json'))).verdict).to.equal(false);
      expect((await run(jsonKeys, { keys, operator: 'none' }, answer('[1,2]'))).verdict).to.equal(false);
    });
    it('rejects missing keys and bad operators', () => {
      expect(rejects(jsonKeys, { keys: [] })).to.match(/at least one key/);
      expect(rejects(jsonKeys, { keys: ['a'], operator: 'most' })).to.match(/operator/);
      expect(jsonKeys.hooks).to.deep.equal(['afterResponse']);
    });
  });
});
