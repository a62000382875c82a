import { expect } from 'chai';
import type { PluginApi, ProviderAdapter } from '@waygate/core';
import plugin, { PRESETS } from '../src/index.js';
import { REFUSING } from '../src/adapter.js';

/** The endpoints an adapter really serves (not those that only answer a 400). */
const served = (a: ProviderAdapter): string[] => Object.keys(a.endpoints).filter((e) => !REFUSING.has(a.endpoints[e]!));

/** A plugin API view that records the providers registered (all setup() of this plugin uses). */
function fakeKernel(): { kernel: PluginApi; registered: Map<string, ProviderAdapter> } {
  const registered = new Map<string, ProviderAdapter>();
  const kernel = {
    register: {
      provider(a: ProviderAdapter) {
        if (registered.has(a.id)) throw new Error(`duplicate ${a.id}`);
        registered.set(a.id, a);
      },
    },
  } as unknown as PluginApi;
  return { kernel, registered };
}

const REQUIRED = [
  'groq',
  'together-ai',
  'fireworks-ai',
  'deepseek',
  'x-ai',
  'perplexity-ai',
  'openrouter',
  'cerebras',
  'deepinfra',
  'sambanova',
  'nebius',
  'hyperbolic',
  'novita-ai',
  'vllm',
  'lmstudio',
  'jina',
  'voyage',
];

describe('@waygate/provider-openai-compatible', () => {
  it('registers every preset under its own slug, with https base URLs, and none for self-hosted servers', async () => {
    const { kernel, registered } = fakeKernel();
    await plugin.setup(kernel, plugin.configSchema!.parse({}));
    for (const slug of REQUIRED) expect(registered.has(slug), slug).to.equal(true);
    for (const slug of ['vllm', 'lmstudio']) expect(registered.get(slug)!.baseURL, slug).to.equal(undefined);
    for (const [slug, p] of Object.entries(PRESETS)) {
      if (p.baseURL) expect(p.baseURL, slug).to.match(/^https:\/\/[^/]+(\/.*[^/])?$/);
      expect(served(registered.get(slug)!).sort(), slug).to.deep.equal([...p.endpoints, 'passthrough', 'passthrough.native'].sort());
    }
    expect(registered.get('perplexity-ai')!.endpoints.embeddings).to.equal(undefined);
  });

  it('serves rerank on Together, vLLM, Jina and Voyage only, and no chat on Jina and Voyage', async () => {
    const { kernel, registered } = fakeKernel();
    await plugin.setup(kernel, plugin.configSchema!.parse({}));
    const reranking = [...registered.values()].filter((a) => served(a).includes('rerank')).map((a) => a.id);
    expect(reranking.sort()).to.deep.equal(['jina', 'together-ai', 'vllm', 'voyage']);
    for (const slug of ['jina', 'voyage'])
      expect(Object.keys(registered.get(slug)!.endpoints).sort(), slug).to.deep.equal(['embeddings', 'passthrough', 'passthrough.native', 'rerank']);
    expect(registered.get('jina')!.baseURL).to.equal('https://api.jina.ai/v1');
    expect(registered.get('voyage')!.baseURL).to.equal('https://api.voyageai.com/v1');
  });

  it('registers only the presets asked for, and refuses an unknown one', async () => {
    const { kernel, registered } = fakeKernel();
    await plugin.setup(kernel, plugin.configSchema!.parse({ only: ['groq'] }));
    expect([...registered.keys()]).to.deep.equal(['groq']);
    const other = fakeKernel();
    expect(() => plugin.setup(other.kernel, plugin.configSchema!.parse({ only: ['nope'] }))).to.throw(/nope/);
  });

  it('adds presets from its options and validates them', async () => {
    const { kernel, registered } = fakeKernel();
    await plugin.setup(
      kernel,
      plugin.configSchema!.parse({ only: [], presets: { 'my-llm': { base_url: 'https://llm.example.com/v1/', endpoints: ['chat.completions'] } } }),
    );
    expect(registered.get('my-llm')!.baseURL).to.equal('https://llm.example.com/v1');
    expect(Object.keys(registered.get('my-llm')!.endpoints)).to.deep.equal(['chat.completions', 'passthrough', 'passthrough.native']);
    expect(plugin.configSchema!.safeParse({ presets: { 'Bad Slug': {} } }).success).to.equal(false);
    expect(plugin.configSchema!.safeParse({ presets: { x: { endpoints: ['images.generations'] } } }).success).to.equal(false);
    expect(plugin.configSchema!.safeParse({ presets: { x: { base_url: 'ftp://x' } } }).success).to.equal(false);
  });

  it('lets a preset from the options name moderations and rerank, which the default four leave out', async () => {
    const { kernel, registered } = fakeKernel();
    await plugin.setup(
      kernel,
      plugin.configSchema!.parse({ only: [], presets: { a: { base_url: 'https://a.example/v1' }, b: { endpoints: ['rerank', 'moderations'] } } }),
    );
    expect(Object.keys(registered.get('a')!.endpoints)).to.deep.equal([
      'chat.completions',
      'completions',
      'embeddings',
      'models',
      'passthrough',
      'passthrough.native',
    ]);
    expect(Object.keys(registered.get('b')!.endpoints).sort()).to.deep.equal(['moderations', 'passthrough', 'passthrough.native', 'rerank']);
  });
});
