import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, RequestContext } from '@waygate/core';
import { cohere, toCohereRerankBody } from '../src/index.js';
import { jsonFixture } from './fixtures.js';

const rerank = cohere.endpoints.rerank!;
const ANSWER = jsonFixture('rerank-answer');

function input(body: Record<string, unknown>): BuildInput {
  const ctx = { id: 'req-7', headers: {} } as unknown as RequestContext;
  return { ctx, target: { provider: 'cohere', apiKey: 'co-key', baseURL: 'http://127.0.0.1:9/v2', node: { provider: 'cohere' }, path: 'config' }, body };
}

const BODY = {
  model: 'rerank-v3.5',
  query: 'What is the capital of the United States?',
  documents: ['Carson City', 'Saipan', 'Washington, D.C.'],
  top_n: 2,
};

describe('cohere rerank', () => {
  it('POSTs {base}/rerank with the key, documents as strings, the v2 fields as sent', () => {
    const req = rerank.build(input({ ...BODY, priority: 1, max_tokens_per_doc: 256 }));
    expect(req.url).to.equal('http://127.0.0.1:9/v2/rerank');
    expect(req.method).to.equal('POST');
    expect(req.headers.authorization).to.equal('Bearer co-key');
    expect(JSON.parse(String(req.body))).to.deep.equal({ ...BODY, priority: 1, max_tokens_per_doc: 256 });
  });

  it('drops the v1-only fields and sends object documents as their text', () => {
    expect(
      toCohereRerankBody({
        model: 'rerank-v3.5',
        query: 'q',
        documents: [
          { text: 'a', id: 1 },
          { title: 'T', text: 'b' },
        ],
        return_documents: true,
        max_chunks_per_doc: 3,
        rank_fields: ['title'],
      }),
    ).to.deep.equal({ model: 'rerank-v3.5', query: 'q', documents: ['a', 'title: T'] });
  });

  it('needs a model (v2 requires one)', () => {
    const { model: _, ...noModel } = BODY;
    expect(() => rerank.build(input(noModel))).to.throw(GatewayError, /model is required/);
  });

  it("maps Cohere's recorded answer: order, scores, id and meta kept; documents from the request when asked", () => {
    expect(rerank.mapResponse!(ANSWER, input(BODY))).to.deep.equal({
      id: ANSWER.id,
      results: [
        { index: 2, relevance_score: 0.999071 },
        { index: 0, relevance_score: 0.32713068 },
      ],
      meta: ANSWER.meta,
    });
    const withDocs = rerank.mapResponse!(ANSWER, input({ ...BODY, return_documents: true })) as any;
    expect(withDocs.results.map((r: any) => r.document)).to.deep.equal([{ text: 'Washington, D.C.' }, { text: 'Carson City' }]);
  });

  it('answers a body that is not a ranking with a 502, and maps errors with the status kept', () => {
    expect(() => rerank.mapResponse!({ id: 'x', message: 'ok' }, input(BODY))).to.throw(
      GatewayError,
      /cohere answered rerank with a body that is not a ranking: no results array/,
    );
    const err = rerank.mapError!(429, { id: 'a', message: 'too many' }, {})!;
    expect([err.status, err.retryable, err.message]).to.deep.equal([429, true, 'too many']);
  });
});
