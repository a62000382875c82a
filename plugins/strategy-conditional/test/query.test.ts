import { expect } from 'chai';
import { compare, compileQuery, deepEqual, QueryError, regexCacheSize } from '../src/index.js';
import type { QueryRoot } from '../src/index.js';

const root = (over: Partial<QueryRoot> = {}): QueryRoot => ({
  metadata: { tier: 'pro', user: { id: 42, tags: ['beta', 'eu'], org: { plan: 'team' } }, score: '10', n: 7, flag: true, nothing: null },
  params: {
    model: 'gpt-4o-mini',
    temperature: 0.2,
    max_tokens: 512,
    stream: false,
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'Hello there' },
    ],
    response_format: { type: 'json_object' },
    stop: ['\n', 'END'],
  },
  url: { pathname: '/v1/chat/completions' },
  ...over,
});

const matches = (query: unknown, r: QueryRoot = root()): boolean => compileQuery(query)(r);
const compileError = (query: unknown): QueryError => {
  try {
    compileQuery(query, 'q');
  } catch (err) {
    expect(err).to.be.instanceOf(QueryError);
    return err as QueryError;
  }
  throw new Error('expected the query to be refused');
};

describe('@waygate/strategy-conditional query language', () => {
  describe('paths', () => {
    it('reads metadata, params and url.pathname', () => {
      expect(matches({ 'metadata.tier': 'pro' })).to.equal(true);
      expect(matches({ 'params.model': 'gpt-4o-mini' })).to.equal(true);
      expect(matches({ 'url.pathname': '/v1/chat/completions' })).to.equal(true);
      expect(matches({ 'metadata.tier': 'free' })).to.equal(false);
    });

    it('goes any depth, indexing arrays by number', () => {
      expect(matches({ 'params.messages.0.role': 'system' })).to.equal(true);
      expect(matches({ 'params.messages.1.content': { $regex: '^Hello' } })).to.equal(true);
      expect(matches({ 'metadata.user.org.plan': 'team' })).to.equal(true);
      expect(matches({ 'metadata.user.tags.1': 'eu' })).to.equal(true);
      expect(matches({ 'params.response_format.type': 'json_object' })).to.equal(true);
      expect(matches({ 'params.messages.2.role': { $ne: 'user' } }), 'out of range is missing').to.equal(true);
      expect(matches({ 'params.messages.01.role': 'user' }), 'not a canonical index').to.equal(false);
      expect(matches({ 'params.messages.x': { $nin: [1] } }), 'non-numeric index on an array is missing').to.equal(true);
    });

    it('follows own properties only (no prototype walking)', () => {
      expect(matches({ 'metadata.constructor': { $ne: null } })).to.equal(true); // missing
      expect(matches({ 'metadata.constructor.name': 'Object' })).to.equal(false);
      expect(matches({ 'params.messages.length': 2 })).to.equal(false);
      expect(matches({ 'metadata.__proto__': { $eq: {} } })).to.equal(false);
    });

    it('treats a missing path as matching only $ne and $nin', () => {
      const missing = 'metadata.no.such.key';
      for (const cond of [null, 'x', { $eq: null }, { $gt: 0 }, { $gte: 0 }, { $lt: 0 }, { $lte: 0 }, { $in: [null] }, { $regex: '.*' }]) {
        expect(matches({ [missing]: cond }), JSON.stringify(cond)).to.equal(false);
      }
      expect(matches({ [missing]: { $ne: 'x' } })).to.equal(true);
      expect(matches({ [missing]: { $ne: null } })).to.equal(true);
      expect(matches({ [missing]: { $nin: ['x'] } })).to.equal(true);
      // A null value is present, not missing.
      expect(matches({ 'metadata.nothing': null })).to.equal(true);
      expect(matches({ 'metadata.nothing': { $ne: null } })).to.equal(false);
    });

    it('reads params as {} when the request has no body', () => {
      const r = root({ params: {} });
      expect(matches({ 'params.model': { $ne: 'x' } }, r)).to.equal(true);
      expect(matches({ 'params.model': 'x' }, r)).to.equal(false);
    });

    it('refuses paths outside metadata / params / url, and empty segments', () => {
      expect(compileError({ 'body.model': 'x' }).message).to.match(/must start with one of metadata\., params\., url\./);
      expect(compileError({ 'metadata..x': 1 }).message).to.match(/empty segment/);
      expect(compileError({ 'params.': 1 }).message).to.match(/empty segment/);
    });
  });

  describe('plain values', () => {
    it('compare with strict deep equality', () => {
      expect(matches({ 'params.stop': ['\n', 'END'] })).to.equal(true);
      expect(matches({ 'params.stop': ['END', '\n'] })).to.equal(false);
      expect(matches({ 'params.response_format': { type: 'json_object' } })).to.equal(true);
      expect(matches({ 'params.response_format': { type: 'json_object', x: 1 } })).to.equal(false);
      expect(matches({ 'metadata.user': { id: 42, tags: ['beta', 'eu'], org: { plan: 'team' } } })).to.equal(true);
      expect(matches({ 'metadata.n': 7 })).to.equal(true);
      expect(matches({ 'metadata.n': '7' }), '7 is not "7"').to.equal(false);
      expect(matches({ 'metadata.flag': true })).to.equal(true);
      expect(matches({ 'params.stream': false })).to.equal(true);
    });

    it('deepEqual distinguishes arrays from objects and key sets', () => {
      expect(deepEqual([], {})).to.equal(false);
      expect(deepEqual({ a: undefined }, { b: undefined })).to.equal(false);
      expect(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).to.equal(true);
      expect(deepEqual(null, {})).to.equal(false);
    });
  });

  describe('operators', () => {
    it('$eq / $ne (deep)', () => {
      expect(matches({ 'metadata.tier': { $eq: 'pro' } })).to.equal(true);
      expect(matches({ 'metadata.tier': { $eq: 'free' } })).to.equal(false);
      expect(matches({ 'params.stop': { $eq: ['\n', 'END'] } })).to.equal(true);
      expect(matches({ 'metadata.tier': { $ne: 'free' } })).to.equal(true);
      expect(matches({ 'metadata.tier': { $ne: 'pro' } })).to.equal(false);
      expect(matches({ 'params.response_format': { $ne: { type: 'json_object' } } })).to.equal(false);
    });

    it('$gt $gte $lt $lte: numbers, numeric strings (numerically), other strings (lexically)', () => {
      expect(matches({ 'params.max_tokens': { $gt: 511 } })).to.equal(true);
      expect(matches({ 'params.max_tokens': { $gt: 512 } })).to.equal(false);
      expect(matches({ 'params.max_tokens': { $gte: 512 } })).to.equal(true);
      expect(matches({ 'params.max_tokens': { $lt: 512 } })).to.equal(false);
      expect(matches({ 'params.max_tokens': { $lte: 512 } })).to.equal(true);
      expect(matches({ 'params.temperature': { $lt: 0.5 } })).to.equal(true);
      expect(matches({ 'metadata.score': { $gt: 9 } }), '"10" > 9').to.equal(true);
      expect(matches({ 'metadata.score': { $gt: '9' } }), '"10" > "9" numerically').to.equal(true);
      expect(matches({ 'metadata.d': { $gte: '2024-01-01' } }, root({ metadata: { d: '2024-06-30' } }))).to.equal(true);
      expect(matches({ 'metadata.d': { $lt: '2024-01-01' } }, root({ metadata: { d: '2024-06-30' } }))).to.equal(false);
      // Incomparable values match no comparison.
      expect(matches({ 'metadata.tier': { $gt: 1 } })).to.equal(false);
      expect(matches({ 'metadata.tier': { $lte: 1 } })).to.equal(false);
      expect(matches({ 'metadata.flag': { $gte: 0 } })).to.equal(false);
      expect(matches({ 'metadata.user': { $gte: 0 } })).to.equal(false);
      expect(compare('a', 'b')).to.be.below(0);
      expect(Number.isNaN(compare(true, 1))).to.equal(true);
    });

    it('combines several operators on one key (all must hold)', () => {
      expect(matches({ 'params.max_tokens': { $gte: 100, $lt: 1000 } })).to.equal(true);
      expect(matches({ 'params.max_tokens': { $gte: 100, $lt: 500 } })).to.equal(false);
      expect(matches({ 'params.model': { $regex: '^gpt', $ne: 'gpt-4o-mini' } })).to.equal(false);
    });

    it('$in / $nin (deep membership)', () => {
      expect(matches({ 'metadata.tier': { $in: ['pro', 'enterprise'] } })).to.equal(true);
      expect(matches({ 'metadata.tier': { $in: ['free'] } })).to.equal(false);
      expect(matches({ 'metadata.n': { $in: ['7'] } })).to.equal(false);
      expect(matches({ 'params.response_format': { $in: [{ type: 'text' }, { type: 'json_object' }] } })).to.equal(true);
      expect(matches({ 'metadata.tier': { $nin: ['free', 'trial'] } })).to.equal(true);
      expect(matches({ 'metadata.tier': { $nin: ['pro'] } })).to.equal(false);
    });

    it('$regex on strings (numbers and booleans as text), with $options flags', () => {
      expect(matches({ 'params.model': { $regex: '^gpt-4o' } })).to.equal(true);
      expect(matches({ 'params.model': { $regex: '^GPT' } })).to.equal(false);
      expect(matches({ 'params.model': { $regex: '^GPT', $options: 'i' } })).to.equal(true);
      expect(matches({ 'metadata.n': { $regex: '^7$' } })).to.equal(true);
      expect(matches({ 'metadata.user': { $regex: '.*' } }), 'objects never match a regex').to.equal(false);
      expect(matches({ 'url.pathname': { $regex: '/chat/' } })).to.equal(true);
    });

    it('compiles each distinct regex once (cached, bounded)', () => {
      const before = regexCacheSize();
      for (let i = 0; i < 50; i++) compileQuery({ 'params.model': { $regex: '^cache-test-[a-z]+$' } });
      expect(regexCacheSize()).to.equal(before + 1);
      compileQuery({ 'params.model': { $regex: '^cache-test-[a-z]+$', $options: 'i' } });
      expect(regexCacheSize()).to.equal(before + 2);
      for (let i = 0; i < 1500; i++) compileQuery({ 'params.model': { $regex: `^bound-${i}$` } });
      expect(regexCacheSize()).to.be.at.most(1000);
    });

    it('refuses unknown operators, bad arguments and a bad $regex', () => {
      expect(compileError({ 'params.model': { $exists: true } }).message).to.match(/unknown operator "\$exists"/);
      expect(compileError({ 'params.model': { $exists: true } }).where).to.equal('q["params.model"].$exists');
      expect(compileError({ $not: { 'params.model': 'x' } }).message).to.match(/unknown operator "\$not"/);
      expect(compileError({ 'params.model': { $regex: '([a-z' } }).message).to.match(/not a valid regular expression/);
      expect(compileError({ 'params.model': { $regex: 5 } }).message).to.match(/\$regex needs a string/);
      expect(compileError({ 'params.model': { $regex: 'x', $options: 'g' } }).message).to.match(/flags i, m, s and u/);
      expect(compileError({ 'params.model': { $options: 'i' } }).message).to.match(/goes with \$regex/);
      expect(compileError({ 'params.model': { $regex: 'x'.repeat(1001) } }).message).to.match(/longer than/);
      expect(compileError({ 'params.model': { $in: 'gpt' } }).message).to.match(/\$in needs a list/);
      expect(compileError({ 'params.model': { $nin: {} } }).message).to.match(/\$nin needs a list/);
      expect(compileError({ 'params.max_tokens': { $gt: [1] } }).message).to.match(/\$gt needs a number or a string/);
      expect(compileError({ 'params.model': { $eq: 'x', model: 'x' } }).message).to.match(/cannot mix operators and plain keys/);
      expect(compileError('metadata.tier').message).to.match(/a query must be an object/);
      expect(compileError([]).message).to.match(/a query must be an object/);
    });
  });

  describe('$and / $or', () => {
    it('$and needs every sub-query, $or any', () => {
      expect(matches({ $and: [{ 'metadata.tier': 'pro' }, { 'params.model': { $regex: '^gpt' } }] })).to.equal(true);
      expect(matches({ $and: [{ 'metadata.tier': 'pro' }, { 'params.model': { $regex: '^claude' } }] })).to.equal(false);
      expect(matches({ $or: [{ 'metadata.tier': 'free' }, { 'params.model': { $regex: '^gpt' } }] })).to.equal(true);
      expect(matches({ $or: [{ 'metadata.tier': 'free' }, { 'params.model': { $regex: '^claude' } }] })).to.equal(false);
    });

    it('combine with sibling keys: every key of a query object must hold (unlike Portkey, which ignores the siblings)', () => {
      expect(matches({ $or: [{ 'metadata.tier': 'pro' }], 'params.model': 'claude' })).to.equal(false);
      expect(matches({ $or: [{ 'metadata.tier': 'pro' }], 'params.model': 'gpt-4o-mini' })).to.equal(true);
      expect(matches({ 'params.model': 'gpt-4o-mini', $and: [{ 'metadata.n': { $gt: 100 } }] })).to.equal(false);
      expect(matches({ $and: [{ 'metadata.tier': 'pro' }], $or: [{ 'metadata.n': 1 }, { 'metadata.n': 7 }] })).to.equal(true);
      expect(matches({ $and: [{ 'metadata.tier': 'pro' }], $or: [{ 'metadata.n': 1 }, { 'metadata.n': 2 }] })).to.equal(false);
    });

    it('nest', () => {
      const q = { $or: [{ $and: [{ 'metadata.tier': 'pro' }, { 'metadata.n': { $gte: 5 } }] }, { 'url.pathname': '/v1/embeddings' }] };
      expect(matches(q)).to.equal(true);
      expect(matches(q, root({ metadata: { tier: 'pro', n: 1 } }))).to.equal(false);
      expect(matches(q, root({ metadata: {}, url: { pathname: '/v1/embeddings' } }))).to.equal(true);
    });

    it('an empty query matches everything; $and / $or must be non-empty lists of queries', () => {
      expect(matches({})).to.equal(true);
      expect(compileError({ $and: [] }).message).to.match(/non-empty list/);
      expect(compileError({ $or: { a: 1 } }).message).to.match(/non-empty list/);
      expect(compileError({ $or: [{ 'metadata.x': { $bogus: 1 } }] }).where).to.equal('q.$or[0]["metadata.x"].$bogus');
      expect(compileError({ $and: ['x'] }).where).to.equal('q.$and[0]');
    });
  });
});
