// Bedrock rerank through Agent Runtime's Rerank: the request mapping, the host, the signature (service
// `bedrock`, signed for the Agent Runtime host), and the answer as Cohere's.
import assert from 'node:assert/strict';
import { GatewayError } from '@waygate/core';
import type { BuildInput } from '@waygate/core';
import { rerank } from '../src/adapter.js';
import { DEFAULT_BASE_URL } from '../src/request.js';
import { MAX_SOURCES, rerankModelArn, toBedrockRerank } from '../src/rerank.js';
import { signV4 } from '../src/sigv4.js';
import { jsonFixture } from './fixtures.js';

const KEYS = { aws_access_key_id: 'AKIDEXAMPLE', aws_secret_access_key: 'secret' };
const DOCS = [
  'Carson City is the capital city of Nevada.',
  'Saipan is the capital of the Northern Mariana Islands.',
  'Washington, D.C. is the capital of the United States.',
];
const BODY = { model: 'amazon.rerank-v1:0', query: 'capital of the United States', documents: DOCS, top_n: 2 };
const AT = Date.parse('2025-03-04T05:06:07Z');

function input(body: Record<string, unknown>, node: Record<string, unknown> = KEYS, baseURL = DEFAULT_BASE_URL): BuildInput {
  return {
    ctx: { id: 'req-9', startedAt: AT, headers: {} } as never,
    target: { provider: 'bedrock', node: { provider: 'bedrock', ...node }, path: 'config', baseURL },
    body,
  };
}

describe('bedrock rerank', () => {
  it("POSTs the region's Agent Runtime /rerank, signed for service bedrock", () => {
    const req = rerank.build(input(BODY, { ...KEYS, aws_region: 'us-west-2' }));
    assert.equal(req.url, 'https://bedrock-agent-runtime.us-west-2.amazonaws.com/rerank');
    const again = signV4({
      method: 'POST',
      url: req.url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: req.body,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      region: 'us-west-2',
      service: 'bedrock',
      date: AT,
    });
    assert.equal(req.headers.authorization, again.headers.authorization);
    assert.match(req.headers.authorization!, /Credential=AKIDEXAMPLE\/20250304\/us-west-2\/bedrock\/aws4_request/);
    assert.equal(rerank.build(input(BODY, KEYS, 'http://127.0.0.1:9/')).url, 'http://127.0.0.1:9/rerank', 'a custom host as given');
  });

  it('maps the request: one text query, inline text sources, the model as a foundation-model ARN, numberOfResults', () => {
    assert.deepEqual(toBedrockRerank(BODY, 'us-east-1'), {
      queries: [{ type: 'TEXT', textQuery: { text: BODY.query } }],
      sources: DOCS.map((text) => ({ type: 'INLINE', inlineDocumentSource: { type: 'TEXT', textDocument: { text } } })),
      rerankingConfiguration: {
        type: 'BEDROCK_RERANKING_MODEL',
        bedrockRerankingConfiguration: {
          numberOfResults: 2,
          modelConfiguration: { modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0' },
        },
      },
    });
    const conf = (b: Record<string, unknown>) => toBedrockRerank(b, 'eu-central-1').rerankingConfiguration.bedrockRerankingConfiguration;
    assert.equal(conf({ ...BODY, top_n: undefined }).numberOfResults, 3, 'all documents by default');
    assert.equal(conf({ ...BODY, top_n: 50 }).numberOfResults, 3, 'never more than were sent');
    const arn = 'arn:aws:bedrock:eu-central-1::foundation-model/cohere.rerank-v3-5:0';
    assert.equal(rerankModelArn(arn, 'us-east-1'), arn);
    assert.deepEqual(conf({ ...BODY, model: arn, additional_model_request_fields: { max_tokens_per_doc: 512 } }).modelConfiguration, {
      modelArn: arn,
      additionalModelRequestFields: { max_tokens_per_doc: 512 },
    });
  });

  it('refuses what Bedrock cannot take with a 400 naming the field', () => {
    const param = (b: Record<string, unknown>) => {
      try {
        toBedrockRerank(b, 'us-east-1');
      } catch (e) {
        assert.ok(e instanceof GatewayError);
        assert.equal(e.status, 400);
        return e.param;
      }
      return assert.fail('expected a 400');
    };
    const { model: _, ...noModel } = BODY;
    assert.equal(param(noModel), 'model');
    assert.equal(param({ ...BODY, documents: new Array(MAX_SOURCES + 1).fill('x') }), 'documents');
    assert.equal(param({ ...BODY, additional_model_request_fields: 'x' }), 'additional_model_request_fields');
    assert.equal(param({ ...BODY, documents: [{ title: 'no text' }] }), 'documents[0]');
    assert.equal(param({ ...BODY, query: '' }), 'query');
  });

  it("maps the recorded answer to Cohere's shape (id the request's, model the request's; no usage)", () => {
    const answer = rerank.mapResponse!(jsonFixture('rerank-answer'), input({ ...BODY, return_documents: true }));
    assert.deepEqual(answer, {
      id: 'req-9',
      model: 'amazon.rerank-v1:0',
      results: [
        { index: 2, relevance_score: 0.8437, document: { text: DOCS[2] } },
        { index: 0, relevance_score: 0.0713, document: { text: DOCS[0] } },
      ],
    });
    assert.throws(
      () => rerank.mapResponse!({ nextToken: 'x' }, input(BODY)),
      /bedrock answered rerank with a body that is not a ranking: no results array/,
    );
  });

  it("maps Agent Runtime's throttling to a retryable 429", () => {
    const t = jsonFixture('error-throttled');
    const err = rerank.mapError!(t.status, t.body, t.headers)!;
    assert.equal(err.status, 429);
    assert.equal(err.retryable, true);
    assert.equal(err.message, 'ThrottlingException: Too many requests, please wait before trying again.');
  });
});
