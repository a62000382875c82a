import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, ConfigNode, Endpoint, ProviderAdapter } from '@waygate/core';
import { newKernel, plan, thrown, use } from '@waygate/core/testing';
import plugin, { PRESETS } from '../src/index.js';
import { presetAdapters, REFUSING } from '../src/adapter.js';
import { fromNomic, nomicBody } from '../src/nomic.js';

/** Portkey's provider slugs, and the four beyond them. */
const PORTKEY = [
  '302ai', 'ai21', 'aibadgr', 'anthropic', 'anyscale', 'azure-ai', 'azure-openai', 'bedrock', 'bytez', 'cerebras', 'cohere',
  'cometapi', 'cortex', 'dashscope', 'deepbricks', 'deepinfra', 'deepseek', 'featherless-ai', 'fireworks-ai', 'github', 'google',
  'groq', 'huggingface', 'hyperbolic', 'inference-net', 'iointelligence', 'jina', 'kluster-ai', 'krutrim', 'lambda', 'lemonfox-ai',
  'lepton', 'lingyi', 'matterai', 'meshy', 'milvus', 'mistral-ai', 'modal', 'monsterapi', 'moonshot', 'ncompass', 'nebius', 'nextbit',
  'nomic', 'novita-ai', 'nscale', 'ollama', 'openai', 'openrouter', 'oracle', 'ovhcloud', 'palm', 'perplexity-ai', 'predibase',
  'qdrant', 'recraft-ai', 'reka-ai', 'replicate', 'sagemaker', 'sambanova', 'segmind', 'siliconflow', 'stability-ai', 'together-ai',
  'tripo3d', 'triton', 'upstage', 'vertex-ai', 'voyage', 'workers-ai', 'x-ai', 'z-ai', 'zhipu',
]; // prettier-ignore
const BEYOND = ['watsonx', 'databricks', 'nvidia-nim', 'vercel'];
/** Slugs that have their own provider package (not presets of this one). */
const OWN_PACKAGES = [
  'ai21',
  'anthropic',
  'azure-openai',
  'bedrock',
  'bytez',
  'cohere',
  'google',
  'mistral-ai',
  'ollama',
  'openai',
  'oracle',
  'palm',
  'predibase',
  'replicate',
  'sagemaker',
  'stability-ai',
  'triton',
  'vertex-ai',
  'watsonx',
  'workers-ai',
];

/** Each new OpenAI-compatible slug: the endpoint tried, its path under the base URL. All send `Authorization: Bearer <key>`. */
const WIRED: Array<[slug: string, endpoint: Endpoint, path: string]> = [
  ['302ai', 'chat.completions', '/chat/completions'],
  ['aibadgr', 'chat.completions', '/chat/completions'],
  ['anyscale', 'embeddings', '/embeddings'],
  ['cometapi', 'chat.completions', '/chat/completions'],
  ['dashscope', 'embeddings', '/embeddings'],
  ['deepbricks', 'chat.completions', '/chat/completions'],
  ['featherless-ai', 'completions', '/completions'],
  ['github', 'chat.completions', '/chat/completions'],
  ['huggingface', 'chat.completions', '/chat/completions'],
  ['inference-net', 'chat.completions', '/chat/completions'],
  ['iointelligence', 'embeddings', '/embeddings'],
  ['kluster-ai', 'chat.completions', '/chat/completions'],
  ['krutrim', 'chat.completions', '/chat/completions'],
  ['lambda', 'completions', '/completions'],
  ['lemonfox-ai', 'chat.completions', '/chat/completions'],
  ['lepton', 'chat.completions', '/chat/completions'],
  ['lingyi', 'chat.completions', '/chat/completions'],
  ['matterai', 'chat.completions', '/chat/completions'],
  ['modal', 'chat.completions', '/chat/completions'],
  ['monsterapi', 'chat.completions', '/chat/completions'],
  ['moonshot', 'chat.completions', '/chat/completions'],
  ['ncompass', 'chat.completions', '/chat/completions'],
  ['nextbit', 'chat.completions', '/chat/completions'],
  ['nscale', 'chat.completions', '/chat/completions'],
  ['ovhcloud', 'chat.completions', '/chat/completions'],
  ['reka-ai', 'chat.completions', '/chat/completions'],
  ['siliconflow', 'embeddings', '/embeddings'],
  ['upstage', 'chat.completions', '/chat/completions'],
  ['z-ai', 'chat.completions', '/chat/completions'],
  ['zhipu', 'embeddings', '/embeddings'],
  ['nvidia-nim', 'chat.completions', '/chat/completions'],
  ['vercel', 'chat.completions', '/chat/completions'],
  ['nomic', 'embeddings', '/embedding/text'],
  ['azure-ai', 'chat.completions', '/chat/completions?api-version=2024-05-01-preview'],
  ['cortex', 'chat.completions', '/chat/completions'],
  ['databricks', 'chat.completions', '/chat/completions'],
];

/** Slugs accepted whose every endpoint answers 400 `unsupported_endpoint`. */
const REFUSED = ['milvus', 'qdrant', 'meshy', 'tripo3d', 'recraft-ai', 'segmind'];

const adapters = new Map<string, ProviderAdapter>(presetAdapters({ presets: {} }).map((a) => [a.id, a]));

interface Hit {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback upstream that records each request and answers `answer`. */
async function fakeUpstream(answer: unknown): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const BODIES: Record<string, Record<string, unknown>> = {
  'chat.completions': { model: 'm-1', messages: [{ role: 'user', content: 'hi' }] },
  completions: { model: 'm-1', prompt: 'hi' },
  embeddings: { model: 'm-1', input: ['hi'] },
};

/** A build input for a slug with the given node (its base URL the preset's own unless given). */
function input(slug: string, node: ConfigNode = {}, headers: Record<string, string> = {}, baseURL = PRESETS[slug]!.baseURL): BuildInput {
  const ctx = { id: 'req-9', headers } as unknown as BuildInput['ctx'];
  return { ctx, target: { provider: slug, apiKey: 'k-1', baseURL, node: { provider: slug, ...node }, path: 'config' }, body: BODIES['chat.completions'] };
}

describe('Portkey slugs in @waygate/provider-openai-compatible', () => {
  it('has a preset for every Portkey slug (and watsonx, databricks, nvidia-nim, vercel) not in a provider package of its own', () => {
    for (const slug of [...PORTKEY, ...BEYOND]) {
      if (OWN_PACKAGES.includes(slug)) expect(PRESETS, slug).not.to.have.property(slug);
      else expect(PRESETS, slug).to.have.property(slug);
    }
    const listed = new Set([...WIRED.map(([s]) => s), ...REFUSED]);
    const older = ['groq', 'together-ai', 'fireworks-ai', 'deepseek', 'x-ai', 'perplexity-ai', 'openrouter', 'cerebras'];
    const more = ['deepinfra', 'sambanova', 'nebius', 'hyperbolic', 'novita-ai', 'vllm', 'lmstudio', 'jina', 'voyage'];
    for (const slug of Object.keys(PRESETS)) expect(listed.has(slug) || older.includes(slug) || more.includes(slug), `${slug} is tested`).to.equal(true);
  });

  it('accepts each slug in a routing config (the kernel plans a target for it)', async () => {
    const kernel = newKernel();
    await use(kernel, plugin, {});
    for (const slug of [...WIRED.map(([s]) => s), ...REFUSED]) {
      const { targets } = plan(kernel, { provider: slug, api_key: 'k', custom_host: 'https://up.example/v1' });
      expect(
        targets.map((t) => t.provider),
        slug,
      ).to.deep.equal([slug]);
    }
    expect(() => plan(kernel, { provider: 'no-such-slug', api_key: 'k' })).to.throw(GatewayError);
  });

  it('sends each endpoint to its path with the Bearer key, base URL pointed at a loopback fake by custom_host', async () => {
    const fake = await fakeUpstream({ id: 'x', object: 'list', data: [], embeddings: [[0.5]], usage: { total_tokens: 1 } });
    try {
      const kernel = newKernel();
      await use(kernel, plugin, {});
      for (const [slug, endpoint, path] of WIRED) {
        const { ctx, targets } = plan(kernel, { provider: slug, api_key: `key-${slug}`, custom_host: `${fake.url}/${slug}` });
        const body = BODIES[endpoint];
        const req = adapters.get(slug)!.endpoints[endpoint]!.build({ ctx, target: targets[0]!, body });
        expect(REFUSING.has(adapters.get(slug)!.endpoints[endpoint]!), slug).to.equal(false);
        const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body as string | undefined });
        expect(res.status, slug).to.equal(200);
        const hit = fake.hits.at(-1)!;
        expect(hit.url, slug).to.equal(`/${slug}${path}`);
        expect(hit.method, slug).to.equal(endpoint === 'models' ? 'GET' : 'POST');
        expect(hit.headers.authorization, slug).to.equal(`Bearer key-${slug}`);
      }
      expect(fake.hits).to.have.length(WIRED.length);
    } finally {
      await fake.close();
    }
  });

  it('fills a templated base URL from the target options or Portkey headers', () => {
    const cases: Array<[string, ConfigNode, Record<string, string>, string]> = [
      ['cortex', {}, { 'x-portkey-snowflake-account': 'myorg-acct1' }, 'https://myorg-acct1.snowflakecomputing.com/api/v2/cortex/v1/chat/completions'],
      [
        'cortex',
        { snowflake_account: 'xy12345.us-east-2.aws' },
        {},
        'https://xy12345.us-east-2.aws.snowflakecomputing.com/api/v2/cortex/v1/chat/completions',
      ],
      [
        'databricks',
        { databricks_workspace: 'dbc-a1b2c3d4-e5f6' },
        {},
        'https://dbc-a1b2c3d4-e5f6.cloud.databricks.com/serving-endpoints/chat/completions',
      ],
      [
        'azure-ai',
        { resource_name: 'my-res', api_version: '2025-05-01' },
        {},
        'https://my-res.services.ai.azure.com/models/chat/completions?api-version=2025-05-01',
      ],
    ];
    for (const [slug, node, headers, url] of cases) {
      expect(adapters.get(slug)!.endpoints['chat.completions']!.build(input(slug, node, headers)).url, slug).to.equal(url);
    }
  });

  it('refuses a templated base URL with a missing or unsafe value: a 400 naming the option', () => {
    const missing: Array<[string, string]> = [
      ['cortex', 'snowflake_account'],
      ['databricks', 'databricks_workspace'],
      ['azure-ai', 'resource_name'],
    ];
    for (const [slug, key] of missing) {
      const err = thrown(() => adapters.get(slug)!.endpoints['chat.completions']!.build(input(slug)));
      expect(err, slug).to.be.instanceOf(GatewayError);
      expect([err.status, err.code, err.param], slug).to.deep.equal([400, 'invalid_config', `config.${key}`]);
      expect(err.message, slug).to.include(key);
    }
    const unsafe: Array<[string, ConfigNode]> = [
      ['cortex', { snowflake_account: 'evil.example/x' }],
      ['cortex', { snowflake_account: 'a@evil.example' }],
      ['databricks', { databricks_workspace: 'evil.example.com' }],
      ['azure-ai', { resource_name: 'my-res', api_version: '1&x=y' }],
      ['azure-ai', { resource_name: 'a:80' }],
    ];
    for (const [slug, node] of unsafe) {
      const err = thrown(() => adapters.get(slug)!.endpoints['chat.completions']!.build(input(slug, node)));
      expect([err.status, err.code], `${slug} ${JSON.stringify(node)}`).to.deep.equal([400, 'invalid_config']);
    }
  });

  it('uses a custom host instead of the template, keeping only the query parameter', () => {
    const req = adapters.get('azure-ai')!.endpoints.embeddings!.build(input('azure-ai', {}, {}, 'https://proxy.example/models'));
    expect(req.url).to.equal('https://proxy.example/models/embeddings?api-version=2024-05-01-preview');
    const db = adapters.get('databricks')!.endpoints.embeddings!.build(input('databricks', {}, {}, 'https://adb-1.azuredatabricks.net/serving-endpoints'));
    expect(db.url).to.equal('https://adb-1.azuredatabricks.net/serving-endpoints/embeddings');
  });

  it('answers 400 unsupported_endpoint, naming what the service serves, for slugs not served here', () => {
    for (const slug of REFUSED) {
      const a = adapters.get(slug)!;
      for (const endpoint of ['chat.completions', 'embeddings', 'messages'] as const) {
        const err = thrown(() => a.endpoints[endpoint]!.build(input(slug)));
        expect([err.status, err.code], `${slug} ${endpoint}`).to.deep.equal([400, 'unsupported_endpoint']);
        expect(err.message, slug).to.include(PRESETS[slug]!.serves!).and.include(endpoint);
      }
    }
    const lemon = thrown(() => adapters.get('lemonfox-ai')!.endpoints.embeddings!.build(input('lemonfox-ai')));
    expect([lemon.status, lemon.code]).to.deep.equal([400, 'unsupported_endpoint']);
    expect(lemon.message).to.include('chat completions');
    expect(thrown(() => adapters.get('nomic')!.endpoints['chat.completions']!.build(input('nomic'))).message).to.include('text embeddings only');
  });

  it('sends Nomic embeddings in its own shape and maps its answer to OpenAI’s', async () => {
    expect(nomicBody({ model: 'nomic-embed-text-v1.5', input: 'a', dimensions: 256, task_type: 'search_query' })).to.deep.equal({
      texts: ['a'],
      model: 'nomic-embed-text-v1.5',
      task_type: 'search_query',
      dimensionality: 256,
    });
    expect(nomicBody({ input: ['a', 'b'] })).to.deep.equal({ texts: ['a', 'b'], task_type: 'search_document' });
    expect(thrown(() => nomicBody({ input: [1, 2] })).status).to.equal(400);
    expect(thrown(() => nomicBody({ input: 'a', task_type: 'chat' })).param).to.equal('task_type');
    const answer = { embeddings: [[0.1, 0.2], [0.3]], usage: { prompt_tokens: 4, total_tokens: 4 }, model: 'nomic-embed-text-v1.5' };
    const mapped = fromNomic(answer, input('nomic'));
    expect(mapped).to.deep.equal({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
        { object: 'embedding', index: 1, embedding: [0.3] },
      ],
      model: 'nomic-embed-text-v1.5',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
    expect(() => fromNomic({ data: [] }, input('nomic'))).to.throw(GatewayError);
  });
});
