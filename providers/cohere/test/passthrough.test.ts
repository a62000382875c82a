// The native passthrough's request to Cohere: any path on the API root (v1 and v2), the key as a bearer token.
import { expect } from 'chai';
import { RequestContext } from '@waygate/core';
import type { BuildInput, PlannedTarget } from '@waygate/core';
import { cohere } from '../src/index.js';

function nativeInput(
  path: string,
  target: Partial<PlannedTarget>,
  init: { method?: string; query?: string; headers?: Record<string, string>; raw?: Buffer } = {},
): BuildInput {
  const ctx = new RequestContext({
    id: 'r1',
    endpoint: 'passthrough.native',
    method: init.method ?? 'GET',
    path,
    query: init.query ?? '',
    headers: init.headers ?? {},
    body: undefined,
    rawBody: init.raw,
  });
  return { ctx, target: { provider: 'x', node: { provider: 'x' }, path: 'config', ...target } as PlannedTarget, body: undefined, rawBody: init.raw };
}
describe('cohere: passthrough.native', () => {
  const build = cohere.endpoints['passthrough.native']!.build;

  it('goes to the path below /v1/passthrough/cohere on api.cohere.com, with Authorization: Bearer', () => {
    const req = build(
      nativeInput(
        '/v1/passthrough/cohere/v1/datasets',
        { apiKey: 'co-t', baseURL: cohere.baseURL },
        { query: '?limit=1', headers: { authorization: 'Bearer gw' } },
      ),
    );
    expect(req.url).to.equal('https://api.cohere.com/v1/datasets?limit=1');
    expect(req.headers).to.deep.equal({ authorization: 'Bearer co-t' });
  });

  it('without a key, the caller’s Authorization is not passed on', () => {
    const req = build(nativeInput('/v1/passthrough/cohere/v2/models', { baseURL: cohere.baseURL }, { headers: { authorization: 'Bearer gw' } }));
    expect(req.headers).to.deep.equal({});
  });

  it('Cohere’s error body is relayed as it is, 429 retryable', () => {
    const err = cohere.endpoints['passthrough.native']!.mapError!(429, { message: 'too many requests' }, {})!;
    expect(err.retryable).to.equal(true);
    expect(err.toBody()).to.deep.equal({ message: 'too many requests' });
  });
});
