import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, ProviderAdapter, RequestContext } from '@waygate/core';
import { presetAdapters } from '../src/adapter.js';
import { fromRerank, rerankBody, rerankErrorMessage } from '../src/rerank.js';
import { withPromptTokens } from '../src/voyage.js';

const adapters = new Map<string, ProviderAdapter>(presetAdapters({ presets: {} }).map((a) => [a.id, a]));
const DOCS = ['Carson City', { text: 'Washington, D.C.', id: 'dc' }];
const BODY = { model: 'm-1', query: 'capital of the United States', documents: DOCS, top_n: 1, truncate: 'END' };

function input(provider: string, body: Record<string, unknown>): BuildInput {
  const ctx = { id: 'req-3', headers: {} } as unknown as RequestContext;
  return { ctx, target: { provider, apiKey: 'k-1', baseURL: `https://${provider}.example/v1`, node: { provider }, path: 'config' }, body };
}

describe('rerank of the OpenAI-compatible presets', () => {
  it('Cohere dialect (Jina, Together, vLLM): the body as sent, new fields kept, return_documents false', () => {
    for (const id of ['jina', 'together-ai', 'vllm']) {
      const req = adapters.get(id)!.endpoints.rerank!.build(input(id, { ...BODY, return_documents: true }));
      expect(req.url).to.equal(`https://${id}.example/v1/rerank`);
      expect(req.headers.authorization).to.equal('Bearer k-1');
      expect(JSON.parse(String(req.body))).to.deep.equal({ ...BODY, return_documents: false });
    }
  });

  it('Voyage dialect: top_n as top_k, documents as strings, truncation kept, unknown fields dropped', () => {
    const req = adapters.get('voyage')!.endpoints.rerank!.build(input('voyage', { ...BODY, truncation: false }));
    expect(JSON.parse(String(req.body))).to.deep.equal({
      query: BODY.query,
      documents: ['Carson City', 'Washington, D.C.'],
      return_documents: false,
      model: 'm-1',
      top_k: 1,
      truncation: false,
    });
    expect(rerankBody({ query: 'q', documents: ['a'] }, 'voyage')).to.deep.equal({ query: 'q', documents: ['a'], return_documents: false });
  });

  it('checks the body before anything is sent', () => {
    expect(() => adapters.get('jina')!.endpoints.rerank!.build(input('jina', { query: 'q', documents: 'a' }))).to.throw(
      GatewayError,
      /^documents is required/,
    );
  });

  it("maps each dialect's answer to Cohere's: usage as billed input tokens, model and id kept (else the request's id)", () => {
    const jina = {
      model: 'jina-reranker-v2',
      usage: { total_tokens: 30, prompt_tokens: 28 },
      results: [{ index: 1, document: { text: 'x' }, relevance_score: 0.7 }],
    };
    expect(fromRerank('jina', jina, input('jina', { ...BODY, return_documents: true }), 'cohere')).to.deep.equal({
      id: 'req-3',
      model: 'jina-reranker-v2',
      results: [{ index: 1, relevance_score: 0.7, document: { text: 'Washington, D.C.', id: 'dc' } }],
      meta: { billed_units: { input_tokens: 28 } },
    });
    const voyage = { object: 'list', data: [{ relevance_score: 0.5, index: 0 }], model: 'rerank-2', usage: { total_tokens: 12 } };
    expect(fromRerank('voyage', voyage, input('voyage', BODY), 'voyage')).to.deep.equal({
      id: 'req-3',
      model: 'rerank-2',
      results: [{ index: 0, relevance_score: 0.5 }],
      meta: { billed_units: { input_tokens: 12 } },
    });
    const together = { object: 'rerank', id: 'oGs6', model: 'Salesforce/Llama-Rank-V1', results: [{ index: 0, relevance_score: 0.2, document: null }] };
    expect(fromRerank('together-ai', together, input('together-ai', BODY), 'cohere')).to.deep.equal({
      id: 'oGs6',
      model: 'Salesforce/Llama-Rank-V1',
      results: [{ index: 0, relevance_score: 0.2 }],
    });
    expect(() => fromRerank('voyage', { results: [] }, input('voyage', BODY), 'voyage')).to.throw(GatewayError, /voyage answered rerank .*no data array/);
  });

  it("reads the provider's error message: FastAPI detail (string or field list), OpenAI's error, message", () => {
    expect(rerankErrorMessage({ detail: 'Provided API key is invalid.' })).to.equal('Provided API key is invalid.');
    expect(rerankErrorMessage({ detail: [{ loc: ['body', 'query'], msg: 'field required' }, { msg: 'bad' }] })).to.equal(
      'body.query: field required; bad',
    );
    expect(rerankErrorMessage({ error: { message: 'Invalid API key provided', type: 'invalid_request_error' } })).to.equal('Invalid API key provided');
    expect(rerankErrorMessage({ message: 'm' })).to.equal('m');
    expect(rerankErrorMessage('upstream text')).to.equal('upstream text');
    expect(rerankErrorMessage({})).to.equal(undefined);
    const err = adapters.get('together-ai')!.endpoints.rerank!.mapError!(503, { error: { message: 'overloaded' } }, {})!;
    expect([err.status, err.retryable, err.message]).to.deep.equal([503, true, 'together-ai: overloaded']);
    expect(adapters.get('jina')!.endpoints.rerank!.mapError!(422, {}, {})!.message).to.equal('jina: answered status 422');
  });

  it("gives Voyage's embeddings usage a prompt_tokens (it reports total_tokens only), leaving other answers as they are", () => {
    const map = withPromptTokens(undefined);
    const inp = input('voyage', { model: 'voyage-3', input: 'x' });
    expect(map({ object: 'list', data: [], usage: { total_tokens: 9 } }, inp)).to.deep.equal({
      object: 'list',
      data: [],
      usage: { total_tokens: 9, prompt_tokens: 9 },
    });
    expect(map({ usage: { total_tokens: 9, prompt_tokens: 4 } }, inp)).to.deep.equal({ usage: { total_tokens: 9, prompt_tokens: 4 } });
    const same = { data: [] };
    expect(map(same, inp)).to.equal(same);
    expect(adapters.get('voyage')!.endpoints.embeddings!.mapResponse).to.be.a('function');
  });
});
