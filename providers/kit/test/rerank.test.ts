import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import { MAX_RERANK_DOCUMENTS, parseRerankRequest, rerankTexts, toCohereRerank } from '../src/index.js';

function fails(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(GatewayError);
    return e as GatewayError;
  }
  return expect.fail('expected a GatewayError');
}

describe('rerank in Cohere shape', () => {
  const body = { model: 'rerank-v3.5', query: 'capital', documents: ['Paris', { text: 'Rome', id: 'r' }] };

  it('parses a request, return_documents false unless asked', () => {
    expect(parseRerankRequest(body)).to.deep.equal({
      ...body,
      top_n: undefined,
      return_documents: false,
      rank_fields: undefined,
      max_tokens_per_doc: undefined,
    });
    expect(parseRerankRequest({ ...body, return_documents: true, top_n: 1, max_tokens_per_doc: 100, rank_fields: ['title'] })).to.include({
      return_documents: true,
      top_n: 1,
      max_tokens_per_doc: 100,
    });
  });

  it('refuses each bad field with a 400 naming it', () => {
    const cases: Array<[Record<string, unknown> | undefined, string | null]> = [
      [undefined, null],
      [{ ...body, query: '' }, 'query'],
      [{ ...body, query: 3 }, 'query'],
      [{ ...body, documents: 'Paris' }, 'documents'],
      [{ ...body, documents: [] }, 'documents'],
      [{ ...body, documents: ['a', null] }, 'documents[1]'],
      [{ ...body, documents: [['nested']] }, 'documents[0]'],
      [{ ...body, top_n: 0 }, 'top_n'],
      [{ ...body, top_n: 1.5 }, 'top_n'],
      [{ ...body, return_documents: 1 }, 'return_documents'],
      [{ ...body, rank_fields: [''] }, 'rank_fields'],
      [{ ...body, max_tokens_per_doc: -1 }, 'max_tokens_per_doc'],
      [{ ...body, model: 5 }, 'model'],
    ];
    for (const [b, param] of cases) {
      const err = fails(() => parseRerankRequest(b));
      expect(err.status, JSON.stringify(b)).to.equal(400);
      expect(err.param, JSON.stringify(b)).to.equal(param);
      if (param) expect(err.message.startsWith(param), err.message).to.equal(true);
    }
    const many = fails(() => parseRerankRequest({ ...body, documents: new Array(MAX_RERANK_DOCUMENTS + 1).fill('x') }));
    expect(many.message).to.include(`at most ${MAX_RERANK_DOCUMENTS}`);
  });

  it("gives each document's text: strings as they are, objects by rank_fields (field: value lines) or text", () => {
    const req = parseRerankRequest({
      query: 'q',
      documents: ['plain', { title: 'T', year: 2024, text: 'body' }, { text: 'only text' }],
      rank_fields: ['title', 'year'],
    });
    expect(rerankTexts(req)).to.deep.equal(['plain', 'title: T\nyear: 2024', 'only text']);
    expect(rerankTexts(parseRerankRequest({ query: 'q', documents: [{ text: 'a', title: 'b' }] }))).to.deep.equal(['a']);
    const err = fails(() => rerankTexts(parseRerankRequest({ query: 'q', documents: ['ok', { title: 'no text' }] })));
    expect(err.param).to.equal('documents[1]');
    expect(err.status).to.equal(400);
  });

  it("builds Cohere's answer in the provider's order, with the request's documents when asked", () => {
    const req = parseRerankRequest({ ...body, return_documents: true });
    const answer = toCohereRerank(
      'acme',
      req,
      [
        { index: 1, score: 0.9 },
        { index: 0, score: 0.1 },
      ],
      { id: 'id-1', model: 'm', meta: { billed_units: { input_tokens: 3 } } },
    );
    expect(answer).to.deep.equal({
      id: 'id-1',
      results: [
        { index: 1, relevance_score: 0.9, document: { text: 'Rome', id: 'r' } },
        { index: 0, relevance_score: 0.1, document: { text: 'Paris' } },
      ],
      model: 'm',
      meta: { billed_units: { input_tokens: 3 } },
    });
    expect(toCohereRerank('acme', parseRerankRequest(body), [{ index: 0, score: 0.5 }], { id: 'x' })).to.deep.equal({
      id: 'x',
      results: [{ index: 0, relevance_score: 0.5 }],
    });
  });

  it('answers a ranking of documents that were not sent, or without scores, with a retryable 502', () => {
    const req = parseRerankRequest(body);
    for (const [ranked, what] of [
      [[{ index: 2, score: 0.1 }], 'names document 2, not one of the 2 sent'],
      [[{ index: -1, score: 0.1 }], 'names document -1'],
      [[{ index: '0', score: 0.1 }], 'names document "0"'],
      [[{ index: 0, score: 'high' }], 'no numeric relevance score'],
      [[{ index: 0, score: Number.NaN }], 'no numeric relevance score'],
    ] as const) {
      const err = fails(() => toCohereRerank('acme', req, ranked, { id: 'x' }));
      expect(err.status).to.equal(502);
      expect(err.retryable).to.equal(true);
      expect(err.message).to.include('acme answered rerank with a body that is not a ranking').and.include(what);
    }
  });
});
