import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import { MAX_NESTED_JSON_DEPTH, nestedDeeper, parseArguments } from '../src/index.js';

describe('JSON helpers', () => {
  it('parseArguments: an object as it is, JSON text parsed (non-objects wrapped), other text an empty object', () => {
    expect(parseArguments({ a: 1 })).to.deep.equal({ a: 1 });
    expect(parseArguments('{"city":"Paris"}')).to.deep.equal({ city: 'Paris' });
    expect(parseArguments('[1,2]')).to.deep.equal({ value: [1, 2] });
    expect(parseArguments('not json')).to.deep.equal({});
    expect(parseArguments('')).to.deep.equal({});
  });

  it('parseArguments: arguments nested deeper than MAX_NESTED_JSON_DEPTH are a 400, not an object too deep to serialize', () => {
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    expect(() => parseArguments(deep(MAX_NESTED_JSON_DEPTH))).to.not.throw();
    let err: unknown;
    try {
      parseArguments(deep(100_000));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(GatewayError).and.include({ status: 400, code: 'invalid_request' });
    expect((err as Error).message).to.equal(`A tool call's arguments are nested deeper than ${MAX_NESTED_JSON_DEPTH} levels`);
  });

  it('nestedDeeper counts arrays and objects outside strings only (escapes included)', () => {
    expect(nestedDeeper('[[1]]', 2)).to.equal(false);
    expect(nestedDeeper('[[[1]]]', 2)).to.equal(true);
    expect(nestedDeeper('{"s":"[[[[[\\"[[[[","t":[1]}', 2)).to.equal(false);
    expect(nestedDeeper('["\\\\",[[1]]]', 2)).to.equal(true);
  });
});
