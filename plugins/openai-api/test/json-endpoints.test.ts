import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import { MODERATIONS_ENDPOINT, RERANK_ENDPOINT, checkModerationRequest, rerankUsage } from '../src/index.js';

function param(fn: () => void): string | null {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(GatewayError);
    expect((e as GatewayError).status).to.equal(400);
    return (e as GatewayError).param;
  }
  return expect.fail('expected a 400');
}

describe('moderations and rerank endpoints', () => {
  it('routes POST /v1/moderations, and /v1/rerank and /v2/rerank (the v2 Cohere SDK path)', () => {
    expect(MODERATIONS_ENDPOINT).to.deep.include({ id: 'moderations', routes: [{ method: 'POST', path: '/v1/moderations' }] });
    expect(RERANK_ENDPOINT.routes).to.deep.equal([
      { method: 'POST', path: '/v1/rerank' },
      { method: 'POST', path: '/v2/rerank' },
    ]);
    expect(MODERATIONS_ENDPOINT.stream).to.equal(undefined);
    expect(RERANK_ENDPOINT.stream).to.equal(undefined);
  });

  it("answers rerank errors in Cohere's shape, {message}", () => {
    expect(RERANK_ENDPOINT.errorBody!(new GatewayError('invalid_request', 400, 'top_n must be a positive integer', { param: 'top_n' }))).to.deep.equal({
      message: 'top_n must be a positive integer',
    });
  });

  it('checks a moderations body: input a string, strings, or text and image_url parts; model a string', () => {
    for (const ok of [
      { input: 'hello' },
      { input: ['a', 'b'], model: 'omni-moderation-latest' },
      {
        input: [
          { type: 'text', text: 'a' },
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
        ],
      },
    ]) {
      expect(() => checkModerationRequest(ok)).to.not.throw();
    }
    expect(param(() => checkModerationRequest(undefined))).to.equal('input');
    expect(param(() => checkModerationRequest({ input: [] }))).to.equal('input');
    expect(param(() => checkModerationRequest({ input: {} }))).to.equal('input');
    expect(param(() => checkModerationRequest({ input: ['a', { type: 'image_url', image_url: 'x' }] }))).to.equal('input[1]');
    expect(param(() => checkModerationRequest({ input: [{ type: 'text' }] }))).to.equal('input[0]');
    expect(param(() => checkModerationRequest({ input: 'a', model: '' }))).to.equal('model');
  });

  it("reads a rerank answer's usage: billed (or counted) input tokens, search units, the model", () => {
    expect(rerankUsage({ results: [], model: 'jina-reranker-v2', meta: { billed_units: { input_tokens: 40 } } })).to.deep.equal({
      usage: { prompt_tokens: 40, completion_tokens: 0, total_tokens: 40 },
      model: 'jina-reranker-v2',
    });
    expect(rerankUsage({ results: [], meta: { tokens: { input_tokens: 7 }, billed_units: { search_units: 2 } } })).to.deep.equal({
      usage: { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7, search_units: 2 },
      model: undefined,
    });
    expect(rerankUsage({ results: [], meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } } })).to.deep.equal({
      usage: { search_units: 1 },
      model: undefined,
    });
    expect(rerankUsage({ results: [], model: 'amazon.rerank-v1:0' })).to.deep.equal({ usage: undefined, model: 'amazon.rerank-v1:0' });
    expect(rerankUsage({ results: [] })).to.equal(undefined);
    expect(rerankUsage('not an answer')).to.equal(undefined);
  });
});
