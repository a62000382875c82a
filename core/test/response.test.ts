import { expect } from 'chai';
import { GatewayResponse } from '../src/response.js';
import { GatewayError } from '../src/errors.js';

describe('GatewayResponse', () => {
  it('writes raw upstream bytes untouched until a plugin replaces the body', () => {
    const bytes = Buffer.from('{"a":1,  "b":[2]}');
    const res = GatewayResponse.raw(200, bytes);
    expect(res.serialize()).to.equal(bytes);
    expect(res.body).to.deep.equal({ a: 1, b: [2] });
    expect(res.serialize(), 'reading does not re-serialize').to.equal(bytes);
    res.body = { a: 2 };
    expect(res.serialize()).to.equal('{"a":2}');
  });

  it('serializes JSON bodies once', () => {
    expect(GatewayResponse.json(201, { ok: true }).serialize()).to.equal('{"ok":true}');
  });
});

describe('GatewayError', () => {
  it('has OpenAI error shape and a default type by status', () => {
    const e = new GatewayError('unknown_provider', 400, 'nope', { param: 'config.provider' });
    expect(e.toBody()).to.deep.equal({ error: { message: 'nope', type: 'invalid_request_error', code: 'unknown_provider', param: 'config.provider' } });
    expect(new GatewayError('x', 429, 'slow').type).to.equal('rate_limit_error');
  });

  it('turns an unknown throwable into a 500 naming where it came from', () => {
    const e = GatewayError.from(new Error('oops'), { plugin: 'p', hook: 'onError' });
    expect(e.status).to.equal(500);
    expect(e.message).to.match(/plugin p \(hook onError\): oops/);
  });
});

describe('GatewayResponse.addField', () => {
  it("splices a field into the upstream's bytes without re-serializing them", () => {
    const bytes = Buffer.from('{"id":"x",  "n":1.50}\n');
    const res = GatewayResponse.raw(200, bytes, {}, 'upstream', { id: 'x', n: 1.5 });
    res.addField('hook_results', { ok: true });
    expect(String(res.serialize())).to.equal('{"id":"x",  "n":1.50,"hook_results":{"ok":true}}');
    expect(res.body).to.deep.equal({ id: 'x', n: 1.5, hook_results: { ok: true } });
  });

  it('handles an empty object, and falls back to the parsed body when there are no bytes', () => {
    const empty = GatewayResponse.raw(200, Buffer.from(' {  } '));
    empty.addField('a', 1);
    expect(JSON.parse(String(empty.serialize()))).to.deep.equal({ a: 1 });
    const json = GatewayResponse.json(200, { b: 2 });
    json.addField('a', 1);
    expect(json.serialize()).to.equal('{"b":2,"a":1}');
    const list = GatewayResponse.raw(200, Buffer.from('[1]'));
    list.addField('a', 1);
    expect(String(list.serialize()), 'not an object: unchanged').to.equal('[1]');
  });
});
