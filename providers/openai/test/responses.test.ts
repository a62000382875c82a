import { expect } from 'chai';
import type { BuildInput, RequestContext } from '@waygate/core';
import { openai } from '../src/index.js';

describe('@waygate/provider-openai: the Responses API, passed through', () => {
  it("posts the client's exact bytes to {baseURL}/responses and maps nothing", () => {
    const ep = openai.endpoints.responses!;
    const raw = '{"model":"gpt-5","input":"hi","future":{"a":1}}';
    const ctx = { headers: {} } as unknown as RequestContext;
    const input: BuildInput = {
      ctx,
      target: { provider: 'openai', apiKey: 'sk-1', baseURL: 'http://127.0.0.1:9/v1', node: { provider: 'openai' }, path: 'config' },
      body: JSON.parse(raw),
      rawBody: new TextEncoder().encode(raw),
    };
    const req = ep.build(input);
    expect(req).to.deep.include({ url: 'http://127.0.0.1:9/v1/responses', method: 'POST' });
    expect(req.headers.authorization).to.equal('Bearer sk-1');
    expect(new TextDecoder().decode(req.body as Uint8Array)).to.equal(raw);
    expect(ep.mapResponse).to.equal(undefined);
    expect(ep.createStreamTransformer).to.equal(undefined);
  });
});

describe('@waygate/provider-openai: stored responses, passed through', () => {
  it('sends GET and DELETE /v1/responses/{id}[/input_items] to the same path on the target', () => {
    const ep = openai.endpoints['responses.item']!;
    const target = { provider: 'openai', apiKey: 'sk-1', baseURL: 'http://127.0.0.1:9/v1', node: { provider: 'openai' }, path: 'config' };
    const at = (method: string, path: string, query = '') =>
      ep.build({ ctx: { headers: {}, method, path, query } as unknown as RequestContext, target, body: undefined });
    expect(at('GET', '/v1/responses/resp_1')).to.deep.include({ url: 'http://127.0.0.1:9/v1/responses/resp_1', method: 'GET' });
    expect(at('GET', '/v1/responses/resp_1/input_items')).to.deep.include({ url: 'http://127.0.0.1:9/v1/responses/resp_1/input_items', method: 'GET' });
    expect(at('GET', '/v1/responses/resp_1/input_items', '?limit=5&order=asc').url).to.equal(
      'http://127.0.0.1:9/v1/responses/resp_1/input_items?limit=5&order=asc',
    );
    const del = at('DELETE', '/v1/responses/resp_1');
    expect(del).to.deep.include({ method: 'DELETE' });
    expect(del.body).to.equal(undefined);
    expect(del.headers.authorization).to.equal('Bearer sk-1');
  });
});
