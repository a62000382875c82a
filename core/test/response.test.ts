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
