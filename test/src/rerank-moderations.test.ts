// End to end for `/v1/moderations` (the official `openai` SDK's moderations.create) and `/v1/rerank`
// (the `cohere-ai` SDK's v2 and v1 rerank, and plain fetch in Cohere's shape) through the real
// gateway (default plugins) to loopback fakes that speak each provider's documented format
// (src/fakes/rerank-upstreams.ts): OpenAI moderations; rerank on Cohere v2, Jina, Together, Voyage
// and Bedrock Agent Runtime (SigV4 checked by the fake); the embeddings of Jina, Voyage and Cohere on
// Bedrock. Faults: bad bodies (400 naming the field, nothing sent upstream), upstream 429 and 5xx,
// a fallback past a failing reranker, a malformed ranking, a provider that does not serve the
// endpoint; and usage (log line, cost, a token rate limit) from rerank answers.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { Cohere, CohereClient, CohereClientV2, CohereError } from 'cohere-ai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream, vectorFor } from './fakes/index.js';
import type { Handler, Received } from './fakes/index.js';
import {
  bedrockRerankHandler,
  cohereRerankHandler,
  jinaHandler,
  moderationsHandler,
  rank,
  rerankTokens,
  togetherHandler,
  voyageHandler,
} from './fakes/rerank-upstreams.js';
import { LogCapture, postRaw } from './helpers/api-support.js';
import { adminCall } from './helpers/auth-support.js';

const OPENAI_KEY = 'sk-mod-0123456789abcdef';
const COHERE_KEY = 'co-rerank-0123456789abcdef';
const JINA_KEY = 'jina_0123456789abcdef';
const TOGETHER_KEY = 'tgp_v1_0123456789abcdef';
const VOYAGE_KEY = 'pa-0123456789abcdef';
const CREDS = { accessKeyId: 'AKIDRERANKEXAMPLE', secretAccessKey: 'rerank/secret/0123456789abcdefEXAMPLE' };

const QUERY = 'What is the capital of the United States?';
const DOCS = [
  'Carson City is the capital city of the American state of Nevada.',
  'The Commonwealth of the Northern Mariana Islands is a group of islands in the Pacific Ocean. Its capital is Saipan.',
  'Washington, D.C. is the capital of the United States. It is a federal district.',
  'Capital punishment has existed in the United States since before it was a country.',
];
const TOP = rank(QUERY, DOCS, 2);

let gw: Gateway;
const logs = new LogCapture('info');

before(async () => {
  gw = await startGateway({ port: 0, logger: logs.logger, env: {} });
});
after(async () => {
  await gw?.close(0);
});

/** Starts a fake for a describe block, closed after it and reset before each test. */
function useFake(handler: Handler): () => FakeUpstream {
  let fake: FakeUpstream;
  before(async () => {
    fake = await FakeUpstream.start(handler);
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(() => fake.reset());
  return () => fake;
}

/** The `request` log line of an answer. */
const logLine = (res: { headers: { get(name: string): string | null } }) => logs.requestLine(res.headers.get('x-waygate-request-id')!);

const thrown = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );

// ------------------------------------------------------------------------------------ moderations

describe('/v1/moderations through the openai SDK', () => {
  const fake = useFake(moderationsHandler({ key: OPENAI_KEY }));
  const client = (config: Record<string, unknown> = { provider: 'openai', custom_host: `${fake().url}/v1` }) =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: OPENAI_KEY, maxRetries: 0, defaultHeaders: { 'x-waygate-config': JSON.stringify(config) } });

  it('answers moderations.create from OpenAI, the request passed through as the SDK sent it', async () => {
    const { data, response } = await client()
      .moderations.create({ model: 'omni-moderation-latest', input: ['I will kill the process if it hangs', 'Have a nice day'] })
      .withResponse();
    expect(data.id).to.equal('modr-970d409ef3bef3b70c73d8232df86e7d');
    expect(data.model).to.equal('omni-moderation-2024-09-26');
    expect(data.results.map((r) => r.flagged)).to.deep.equal([true, false]);
    expect(data.results[0]!.categories.violence).to.equal(true);
    expect(data.results[0]!.category_scores.violence).to.equal(0.9171);
    const [req] = fake().requests;
    expect(req!.method).to.equal('POST');
    expect(req!.pathname).to.equal('/v1/moderations');
    expect(req!.headers.authorization).to.equal(`Bearer ${OPENAI_KEY}`);
    expect(req!.body).to.deep.equal({ model: 'omni-moderation-latest', input: ['I will kill the process if it hangs', 'Have a nice day'] });
    const line = await logLine(response);
    expect(line).to.include({ status: 200, provider: 'openai', model: 'omni-moderation-2024-09-26', route: '/v1/moderations' });
  });

  it('takes multimodal input (text and image_url parts)', async () => {
    const data = await client().moderations.create({
      model: 'omni-moderation-latest',
      input: [
        { type: 'text', text: 'a picture' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    });
    expect(data.results).to.have.length(2);
    expect(data.results[1]!.category_applied_input_types.violence).to.deep.equal(['image']);
  });

  it('refuses a bad body with a 400 naming the field, before any upstream call', async () => {
    for (const [body, param] of [
      [{ model: 'omni-moderation-latest' }, 'input'],
      [{ input: '' }, 'input'],
      [{ input: ['fine', 42] }, 'input[1]'],
      [{ input: [{ type: 'audio', audio: 'x' }] }, 'input[0]'],
      [{ input: 'x', model: 7 }, 'model'],
    ] as const) {
      const err = await thrown(client().moderations.create(body as never));
      expect(err, JSON.stringify(body)).to.be.instanceOf(BadRequestError);
      expect((err as BadRequestError).param).to.equal(param);
      expect((err as BadRequestError).message).to.include(param.replace(/\[\d+\]/, ''));
    }
    expect(fake().requests).to.have.length(0);
  });

  it("relays OpenAI's 429 (its message and retry-after) and 5xx", async () => {
    fake().enqueue({
      status: 429,
      headers: { 'retry-after': '3' },
      json: { error: { message: 'Rate limit reached for omni-moderation-latest', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    });
    const limited = await thrown(client().moderations.create({ input: 'x' }));
    expect(limited).to.be.instanceOf(RateLimitError);
    expect((limited as RateLimitError).message).to.include('Rate limit reached for omni-moderation-latest');
    expect((limited as RateLimitError).headers?.get('retry-after')).to.equal('3');
    fake().enqueue({ status: 500, json: { error: { message: 'The server had an error while processing your request.', type: 'server_error' } } });
    const failed = await thrown(client().moderations.create({ input: 'x' }));
    expect(failed).to.be.instanceOf(InternalServerError);
    expect((failed as InternalServerError).message).to.include('The server had an error');
  });

  it('answers a provider that does not serve moderations (Azure OpenAI) with a 400 naming what it serves, sending nothing', async () => {
    const err = await thrown(
      client({ provider: 'azure-openai', custom_host: fake().url, api_version: 'v1' }).moderations.create({ input: 'x', model: 'omni-moderation-latest' }),
    );
    expect(err).to.be.instanceOf(BadRequestError);
    const e = err as BadRequestError;
    expect(e.code).to.equal('unsupported_endpoint');
    expect(e.param).to.equal('config.provider');
    expect(e.message).to.include('moderations is not served by provider azure-openai (azure-openai serves chat.completions, completions, embeddings, ');
    expect(e.message).to.match(/moderations is served by openai\b/);
    expect(fake().requests).to.have.length(0);
  });

  it('names the first target of a fallback when it does not serve moderations (the gateway would stop there), and serves one that does', async () => {
    const targets = [
      { provider: 'azure-openai', custom_host: fake().url, api_version: 'v1' },
      { provider: 'openai', custom_host: `${fake().url}/v1` },
    ];
    const err = await thrown(client({ strategy: { mode: 'fallback' }, targets }).moderations.create({ input: 'kill it' }));
    expect((err as BadRequestError).param).to.equal('config.targets[0].provider');
    expect((err as BadRequestError).message).to.match(/^400 moderations is not served by provider azure-openai /);
    const data = await client({ strategy: { mode: 'fallback' }, targets: targets.reverse() }).moderations.create({ input: 'kill it' });
    expect(data.results[0]!.flagged).to.equal(true);
    expect(fake().requests.map((r) => r.pathname)).to.deep.equal(['/v1/moderations']);
  });
});

// ------------------------------------------------------------------------------------ rerank

interface RerankCase {
  name: string;
  handler: Handler;
  config(url: string): Record<string, unknown>;
  token: string;
  model: string;
  /** The input tokens the provider bills (undefined: it bills no tokens). */
  tokens?: number;
  /** The upstream request of a v2 rerank of DOCS with top_n 2. */
  check(req: Received): void;
}

const cases: RerankCase[] = [
  {
    name: 'Cohere (v2 /rerank)',
    handler: cohereRerankHandler({ key: COHERE_KEY }),
    config: (url) => ({ provider: 'cohere', custom_host: `${url}/v2` }),
    token: COHERE_KEY,
    model: 'rerank-v3.5',
    check(req) {
      expect(req.pathname).to.equal('/v2/rerank');
      expect(req.headers.authorization).to.equal(`Bearer ${COHERE_KEY}`);
      expect(req.body).to.deep.equal({ model: 'rerank-v3.5', query: QUERY, documents: DOCS, top_n: 2 });
    },
  },
  {
    name: 'Jina (/v1/rerank, Cohere-compatible)',
    handler: jinaHandler({ key: JINA_KEY }),
    config: (url) => ({ provider: 'jina', custom_host: `${url}/v1` }),
    token: JINA_KEY,
    model: 'jina-reranker-v2-base-multilingual',
    tokens: rerankTokens(QUERY, DOCS),
    check(req) {
      expect(req.pathname).to.equal('/v1/rerank');
      expect(req.headers.authorization).to.equal(`Bearer ${JINA_KEY}`);
      expect(req.body).to.deep.equal({ model: 'jina-reranker-v2-base-multilingual', query: QUERY, documents: DOCS, top_n: 2, return_documents: false });
    },
  },
  {
    name: 'Together (/v1/rerank, Cohere-compatible)',
    handler: togetherHandler({ key: TOGETHER_KEY }),
    config: (url) => ({ provider: 'together-ai', custom_host: `${url}/v1` }),
    token: TOGETHER_KEY,
    model: 'Salesforce/Llama-Rank-V1',
    tokens: rerankTokens(QUERY, DOCS),
    check(req) {
      expect(req.pathname).to.equal('/v1/rerank');
      expect(req.body).to.deep.equal({ model: 'Salesforce/Llama-Rank-V1', query: QUERY, documents: DOCS, top_n: 2, return_documents: false });
    },
  },
  {
    name: 'Voyage (/v1/rerank: top_k, data)',
    handler: voyageHandler({ key: VOYAGE_KEY }),
    config: (url) => ({ provider: 'voyage', custom_host: `${url}/v1` }),
    token: VOYAGE_KEY,
    model: 'rerank-2',
    tokens: rerankTokens(QUERY, DOCS),
    check(req) {
      expect(req.pathname).to.equal('/v1/rerank');
      expect(req.headers.authorization).to.equal(`Bearer ${VOYAGE_KEY}`);
      expect(req.body).to.deep.equal({ query: QUERY, documents: DOCS, return_documents: false, model: 'rerank-2', top_k: 2 });
    },
  },
  {
    name: 'Bedrock (Agent Runtime Rerank, SigV4)',
    handler: bedrockRerankHandler({ creds: CREDS }),
    config: (url) => ({
      provider: 'bedrock',
      custom_host: url,
      aws_region: 'us-west-2',
      aws_access_key_id: CREDS.accessKeyId,
      aws_secret_access_key: CREDS.secretAccessKey,
    }),
    token: 'unused',
    model: 'cohere.rerank-v3-5:0',
    check(req) {
      expect(req.pathname).to.equal('/rerank');
      expect(String(req.headers.authorization)).to.match(/^AWS4-HMAC-SHA256 Credential=AKIDRERANKEXAMPLE\/\d{8}\/us-west-2\/bedrock\/aws4_request, /);
      expect(req.body).to.deep.equal({
        queries: [{ type: 'TEXT', textQuery: { text: QUERY } }],
        sources: DOCS.map((text) => ({ type: 'INLINE', inlineDocumentSource: { type: 'TEXT', textDocument: { text } } })),
        rerankingConfiguration: {
          type: 'BEDROCK_RERANKING_MODEL',
          bedrockRerankingConfiguration: {
            numberOfResults: 2,
            modelConfiguration: { modelArn: 'arn:aws:bedrock:us-west-2::foundation-model/cohere.rerank-v3-5:0' },
          },
        },
      });
    },
  },
];

describe('/v1/rerank through the cohere-ai SDK', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const fake = useFake(c.handler);
      const opts = () => ({ token: c.token, baseUrl: gw.url, maxRetries: 0, headers: { 'x-waygate-config': JSON.stringify(c.config(fake().url)) } });

      it("v2 rerank: the provider's ranking in Cohere's shape, usage recorded", async () => {
        const { data, rawResponse } = await new CohereClientV2(opts())
          .rerank({ model: c.model, query: QUERY, documents: DOCS, topN: 2 })
          .withRawResponse();
        expect(data.results.map((r) => [r.index, r.relevanceScore])).to.deep.equal(TOP.map((r) => [r.index, r.score]));
        expect(data.results.every((r) => !('document' in r))).to.equal(true);
        expect(data.id).to.be.a('string').and.not.equal('');
        expect(fake().requests).to.have.length(1);
        c.check(fake().requests[0]!);
        const line = await logLine(rawResponse);
        expect(line.status).to.equal(200);
        expect(line.route).to.equal('/v2/rerank');
        expect(line.promptTokens).to.equal(c.tokens);
        if (c.tokens !== undefined) expect(data.meta?.billedUnits?.inputTokens).to.equal(c.tokens);
      });

      it('v1 rerank with return_documents: each result carries its document (an object document as sent)', async () => {
        const documents = [{ text: DOCS[0]!, id: 'nv' }, DOCS[1]!, { text: DOCS[2]!, id: 'dc' }, DOCS[3]!];
        const data = await new CohereClient(opts()).rerank({ model: c.model, query: QUERY, documents, topN: 2, returnDocuments: true });
        expect(data.results.map((r) => r.index)).to.deep.equal(TOP.map((r) => r.index));
        expect(data.results[0]!.document).to.deep.equal({ text: DOCS[2], id: 'dc' });
        expect(data.results[1]!.document).to.deep.equal(
          typeof documents[TOP[1]!.index] === 'string' ? { text: DOCS[TOP[1]!.index] } : documents[TOP[1]!.index],
        );
        expect(fake().requests[0]!.pathname).to.match(/\/rerank$/);
      });
    });
  }
});

describe('/v1/rerank: what each provider does with its own fields', () => {
  const cohere = useFake(cohereRerankHandler({ key: COHERE_KEY }));
  const together = useFake(togetherHandler({ key: TOGETHER_KEY }));
  const post = (config: Record<string, unknown>, token: string, body: unknown, route = '/v1/rerank') =>
    postRaw(`${gw.url}${route}`, JSON.stringify(body), { authorization: `Bearer ${token}`, 'x-waygate-config': JSON.stringify(config) });

  it("Cohere v2 gets object documents as their rank_fields' text, and no v1-only field", async () => {
    const res = await post({ provider: 'cohere', custom_host: `${cohere().url}/v2` }, COHERE_KEY, {
      model: 'rerank-v3.5',
      query: QUERY,
      documents: [
        { title: 'Nevada', body: DOCS[0] },
        { title: 'United States', body: DOCS[2] },
      ],
      rank_fields: ['title', 'body'],
      return_documents: true,
      max_chunks_per_doc: 10,
      max_tokens_per_doc: 512,
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(cohere().requests[0]!.body).to.deep.equal({
      model: 'rerank-v3.5',
      query: QUERY,
      documents: [`title: Nevada\nbody: ${DOCS[0]}`, `title: United States\nbody: ${DOCS[2]}`],
      max_tokens_per_doc: 512,
    });
    expect(json.results[0]).to.deep.include({ index: 1, document: { title: 'United States', body: DOCS[2] } });
    expect(json.meta).to.deep.equal({ api_version: { version: '2' }, billed_units: { search_units: 1 } });
  });

  it('Together gets object documents and rank_fields as sent (it ranks fields itself)', async () => {
    const documents = [
      { title: 'Nevada', text: 'x' },
      { title: 'the United States capital', text: 'y' },
    ];
    const res = await post({ provider: 'together-ai', custom_host: `${together().url}/v1` }, TOGETHER_KEY, {
      model: 'Salesforce/Llama-Rank-V1',
      query: QUERY,
      documents,
      rank_fields: ['title'],
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(together().requests[0]!.body).to.deep.include({ documents, rank_fields: ['title'], return_documents: false });
    expect(json.results[0].index).to.equal(1);
    expect(json.model).to.equal('Salesforce/Llama-Rank-V1');
  });

  it('an object document Cohere cannot rank (no text, no rank_fields) is a 400 naming it', async () => {
    const res = await post({ provider: 'cohere', custom_host: `${cohere().url}/v2` }, COHERE_KEY, {
      model: 'rerank-v3.5',
      query: QUERY,
      documents: ['fine', { title: 'no text here' }],
    });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as any).message).to.match(/^documents\[1\] is an object without a text field/);
    expect(cohere().requests).to.have.length(0);
  });
});

describe('/v1/rerank faults', () => {
  const cohere = useFake(cohereRerankHandler({ key: COHERE_KEY }));
  const jina = useFake(jinaHandler({ key: JINA_KEY }));
  const voyage = useFake(voyageHandler({ key: VOYAGE_KEY }));
  const bedrock = useFake(bedrockRerankHandler({ creds: CREDS }));
  const v2 = (config: Record<string, unknown>, token = 'unused') =>
    new CohereClientV2({ token, baseUrl: gw.url, maxRetries: 0, headers: { 'x-waygate-config': JSON.stringify(config) } });
  const cohereConfig = () => ({ provider: 'cohere', custom_host: `${cohere().url}/v2` });
  const params = { model: 'rerank-v3.5', query: QUERY, documents: DOCS };

  it("refuses a bad body with a 400 in Cohere's shape naming the field, before any upstream call", async () => {
    for (const [body, field] of [
      [{ model: 'rerank-v3.5', documents: DOCS }, 'query'],
      [{ model: 'rerank-v3.5', query: QUERY }, 'documents'],
      [{ model: 'rerank-v3.5', query: QUERY, documents: [] }, 'documents'],
      [{ model: 'rerank-v3.5', query: QUERY, documents: ['a', 5] }, 'documents[1]'],
      [{ model: 'rerank-v3.5', query: QUERY, documents: DOCS, top_n: 0 }, 'top_n'],
      [{ model: 'rerank-v3.5', query: QUERY, documents: DOCS, return_documents: 'yes' }, 'return_documents'],
      [{ model: 'rerank-v3.5', query: QUERY, documents: DOCS, rank_fields: 'title' }, 'rank_fields'],
      [{ model: '', query: QUERY, documents: DOCS }, 'model'],
    ] as const) {
      const res = await postRaw(`${gw.url}/v1/rerank`, JSON.stringify(body), {
        authorization: `Bearer ${COHERE_KEY}`,
        'x-waygate-config': JSON.stringify(cohereConfig()),
      });
      const json = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(Object.keys(json)).to.deep.equal(['message']);
      expect(json.message, JSON.stringify(body)).to.match(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')} `));
    }
    const sdk = await thrown(v2(cohereConfig(), COHERE_KEY).rerank({ ...params, topN: 0 }));
    expect(sdk).to.be.instanceOf(Cohere.BadRequestError);
    expect((sdk as CohereError).body).to.deep.equal({ message: 'top_n must be a positive integer' });
    expect(cohere().requests).to.have.length(0);
  });

  it("relays Cohere's 429 with its message and retry-after", async () => {
    const message = 'You are using a Trial key, which is limited to 10 API calls / minute.';
    cohere().enqueue({ status: 429, headers: { 'retry-after': '7' }, json: { id: 'b1f3c2d4', message } });
    const err = await thrown(v2(cohereConfig(), COHERE_KEY).rerank(params));
    expect(err).to.be.instanceOf(Cohere.TooManyRequestsError);
    expect((err as CohereError).statusCode).to.equal(429);
    expect((err as CohereError).body).to.deep.equal({ message });
    expect((err as CohereError).rawResponse?.headers.get('retry-after')).to.equal('7');
  });

  it("relays Bedrock's ThrottlingException as a 429 and Voyage's 503 as a 503", async () => {
    bedrock().enqueue({
      status: 429,
      headers: { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' },
      json: { message: 'Too many requests, please wait before trying again.' },
    });
    const config = { provider: 'bedrock', custom_host: bedrock().url, aws_access_key_id: CREDS.accessKeyId, aws_secret_access_key: CREDS.secretAccessKey };
    const throttled = await thrown(v2(config).rerank({ ...params, model: 'amazon.rerank-v1:0' }));
    expect(throttled).to.be.instanceOf(Cohere.TooManyRequestsError);
    expect((throttled as CohereError).body).to.deep.equal({ message: 'ThrottlingException: Too many requests, please wait before trying again.' });
    voyage().enqueue({ status: 503, json: { detail: 'Service temporarily unavailable' } });
    const down = await thrown(v2({ provider: 'voyage', custom_host: `${voyage().url}/v1` }, VOYAGE_KEY).rerank({ ...params, model: 'rerank-2' }));
    expect(down).to.be.instanceOf(Cohere.ServiceUnavailableError);
    expect((down as CohereError).body).to.deep.equal({ message: 'voyage: Service temporarily unavailable' });
  });

  it("names Jina's field errors (FastAPI's detail list) and refuses a wrong signature at Bedrock", async () => {
    jina().enqueue({ status: 422, json: { detail: [{ loc: ['body', 'model'], msg: 'unknown model', type: 'value_error' }] } });
    const err = await thrown(v2({ provider: 'jina', custom_host: `${jina().url}/v1` }, JINA_KEY).rerank({ ...params, model: 'nope' }));
    expect(err).to.be.instanceOf(Cohere.UnprocessableEntityError);
    expect((err as CohereError).body).to.deep.equal({ message: 'jina: body.model: unknown model' });
    const wrong = { provider: 'bedrock', custom_host: bedrock().url, aws_access_key_id: CREDS.accessKeyId, aws_secret_access_key: 'not-the-secret' };
    const denied = await thrown(v2(wrong).rerank({ ...params, model: 'amazon.rerank-v1:0' }));
    expect((denied as CohereError).statusCode).to.equal(403);
    expect(((denied as CohereError).body as any).message).to.match(/^InvalidSignatureException: The request signature we calculated does not match/);
  });

  it('falls back past a reranker that fails with a 5xx to the next target', async () => {
    cohere().enqueue({ status: 500, json: { id: 'e5', message: 'internal server error, this has been reported to our developers' } });
    const { data, rawResponse } = await v2({
      strategy: { mode: 'fallback' },
      targets: [
        { provider: 'cohere', custom_host: `${cohere().url}/v2`, api_key: COHERE_KEY },
        { provider: 'jina', custom_host: `${jina().url}/v1`, api_key: JINA_KEY, override_params: { model: 'jina-reranker-v2-base-multilingual' } },
      ],
    })
      .rerank({ ...params, topN: 2 })
      .withRawResponse();
    expect(data.results.map((r) => r.index)).to.deep.equal(TOP.map((r) => r.index));
    expect(cohere().requests).to.have.length(1);
    expect(jina().requests[0]!.body!.model).to.equal('jina-reranker-v2-base-multilingual');
    const line = await logLine(rawResponse);
    expect(line).to.include({ provider: 'jina', attempts: 2 });
  });

  it('answers a ranking that names a document not sent with a 502', async () => {
    jina().enqueue({ json: { model: 'jina-reranker-v2-base-multilingual', results: [{ index: 7, relevance_score: 0.5 }] } });
    const err = await thrown(v2({ provider: 'jina', custom_host: `${jina().url}/v1` }, JINA_KEY).rerank(params));
    expect((err as CohereError).statusCode).to.equal(502);
    expect(((err as CohereError).body as any).message).to.equal(
      'jina answered rerank with a body that is not a ranking: result 0 names document 7, not one of the 4 sent',
    );
    voyage().enqueue({ json: { object: 'list', results: [] } });
    const shape = await thrown(v2({ provider: 'voyage', custom_host: `${voyage().url}/v1` }, VOYAGE_KEY).rerank({ ...params, model: 'rerank-2' }));
    expect(((shape as CohereError).body as any).message).to.equal('voyage answered rerank with a body that is not a ranking: no data array');
  });

  it('answers a provider that does not serve rerank with a 400 naming what it serves and who serves rerank', async () => {
    const err = await thrown(v2({ provider: 'openai', custom_host: `${jina().url}/v1` }, 'sk-x').rerank(params));
    expect(err).to.be.instanceOf(Cohere.BadRequestError);
    const message = ((err as CohereError).body as any).message as string;
    expect(message).to.include('rerank is not served by provider openai (openai serves chat.completions, completions, embeddings, models, moderations, ');
    for (const p of ['cohere', 'bedrock', 'together-ai', 'vllm', 'jina', 'voyage'])
      expect(message).to.match(new RegExp(`rerank is served by .*\\b${p}\\b`));
    expect(jina().requests).to.have.length(0);
  });
});

// ------------------------------------------------------------------------------------ embeddings

describe('embeddings of the rerank providers through the openai SDK', () => {
  const jina = useFake(jinaHandler({ key: JINA_KEY }));
  const voyage = useFake(voyageHandler({ key: VOYAGE_KEY }));
  const bedrock = useFake(bedrockRerankHandler({ creds: CREDS }));
  const openai = (config: Record<string, unknown>, apiKey = 'unused') =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: { 'x-waygate-config': JSON.stringify(config) } });
  const inputs = ['first text here', 'the second'];

  for (const [name, fake, provider, key] of [
    ['Jina', jina, 'jina', JINA_KEY],
    ['Voyage (usage as total_tokens only)', voyage, 'voyage', VOYAGE_KEY],
  ] as const) {
    it(`${name}: embeddings.create, vectors and prompt tokens as OpenAI reports them`, async () => {
      const { data, response } = await openai({ provider, custom_host: `${fake().url}/v1` }, key)
        .embeddings.create({ model: 'embed-model-1', input: inputs })
        .withResponse();
      expect(data.data.map((d) => d.embedding)).to.deep.equal(inputs.map(vectorFor));
      expect(data.usage.prompt_tokens).to.equal(5);
      expect(fake().requests[0]!.pathname).to.equal('/v1/embeddings');
      expect((await logLine(response)).promptTokens).to.equal(5);
    });
  }

  it('Cohere embed on Bedrock: a signed InvokeModel with texts and input_type', async () => {
    const data = await openai({
      provider: 'bedrock',
      custom_host: bedrock().url,
      aws_region: 'eu-west-1',
      aws_access_key_id: CREDS.accessKeyId,
      aws_secret_access_key: CREDS.secretAccessKey,
    }).embeddings.create({ model: 'cohere.embed-english-v3', input: inputs });
    expect(data.data.map((d) => d.embedding)).to.deep.equal(inputs.map(vectorFor));
    const [req] = bedrock().requests;
    expect(req!.pathname).to.equal('/model/cohere.embed-english-v3/invoke');
    expect(req!.body).to.deep.equal({ texts: inputs, input_type: 'search_document' });
    expect(String(req!.headers.authorization)).to.include('/eu-west-1/bedrock/aws4_request');
  });
});

// ------------------------------------------------------------------------------------ usage, cost, limits

describe('rerank usage: cost and a token rate limit of a gateway key', () => {
  const ADMIN = 'the-e2e-rerank-admin-key-0123456789';
  const data = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'waygate-rerank-'));
  const jina = useFake(jinaHandler({ key: JINA_KEY }));
  let held: Gateway;

  before(async () => {
    held = await startGateway({
      config: {
        plugins: [
          {
            module: '@waygate/auth',
            options: {
              adminKey: ADMIN,
              store: { type: 'sqlite', path: path.join(data, 'waygate.sqlite') },
              prices: { 'jina-reranker-*': { input_per_mtok: 1_000_000, output_per_mtok: 0 } },
            },
          },
        ],
        providers: { jina: { api_key: JINA_KEY, base_url: `${jina().url}/v1` } },
        routing: { provider: 'jina' },
      },
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
      env: {},
    });
  });
  after(async () => {
    await held?.close(0);
    fs.rmSync(data, { recursive: true, force: true });
  });

  it('prices the tokens a rerank reports and counts them against tokens_per_minute', async () => {
    const query = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon';
    const documents = ['alpha one', 'beta two', 'gamma three', 'nothing here', 'pi rho'];
    const raw = JSON.stringify({ model: 'jina-reranker-v2-base-multilingual', query, documents });
    const used = rerankTokens(query, documents);
    const estimate = Math.ceil(Buffer.byteLength(raw) / 4);
    expect(used).to.be.greaterThan(estimate); // the answer's count, not the estimate, is what the limit then holds
    const made = await adminCall(held.url, ADMIN, 'POST', '/admin/keys', { name: 'rerank', rate_limit: { tokens_per_minute: estimate } });
    expect(made.status, JSON.stringify(made.json)).to.equal(201);
    const call = () => postRaw(`${held.url}/v1/rerank`, raw, { authorization: `Bearer ${made.json.key}` });
    const first = await call();
    const json = (await first.json()) as any;
    expect(first.status, JSON.stringify(json)).to.equal(200);
    expect(json.meta.billed_units.input_tokens).to.equal(used);
    expect(first.headers.get('x-waygate-cost')).to.equal(String(used));
    expect(jina().requests[0]!.headers.authorization).to.equal(`Bearer ${JINA_KEY}`);
    let second = await call();
    // The first call fell in the minute before (a window boundary between the two): the limit holds in this one.
    if (second.status === 200) second = await call();
    expect(second.status).to.equal(429);
    expect(((await second.json()) as any).message).to.match(/tokens per minute/);
    expect(jina().requests.length).to.be.within(1, 2);
  });
});
