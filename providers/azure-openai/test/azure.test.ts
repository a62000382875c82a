import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, RequestContext, Target } from '@waygate/core';
import plugin, { azureOpenAI, azureOptions, AZURE_HOST_TEMPLATE, DEFAULT_API_VERSION } from '../src/index.js';

const chat = azureOpenAI.endpoints['chat.completions']!;

function input(
  over: {
    body?: Record<string, unknown>;
    rawBody?: Uint8Array;
    headers?: Record<string, string>;
    node?: Record<string, unknown>;
    apiKey?: string | null;
    baseURL?: string;
  } = {},
): BuildInput {
  const target: Target = {
    provider: 'azure-openai',
    apiKey: over.apiKey === null ? undefined : (over.apiKey ?? 'az-key-1'),
    baseURL: over.baseURL ?? AZURE_HOST_TEMPLATE,
    node: { provider: 'azure-openai', ...over.node },
    path: 'config',
  };
  const ctx = { headers: over.headers ?? {} } as unknown as RequestContext;
  return { ctx, target, body: over.body ?? { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, rawBody: over.rawBody };
}

function badRequest(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(GatewayError);
    expect((err as GatewayError).status).to.equal(400);
    return err as GatewayError;
  }
  throw new Error('expected a 400');
}

describe('@waygate/provider-azure-openai', () => {
  it('has a manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/provider-azure-openai', kind: 'provider', core: '^1.0.0' });
    expect(plugin.manifest.version).to.equal('1.0.0');
    expect(azureOpenAI.id).to.equal('azure-openai');
    expect(Object.keys(azureOpenAI.endpoints).sort()).to.deep.equal([
      'audio.speech',
      'audio.transcriptions',
      'audio.translations',
      'batches',
      'chat.completions',
      'completions',
      'embeddings',
      'files',
      'images.edits',
      'images.generations',
      'images.variations',
      'passthrough.native',
      'responses',
      'responses.item',
    ]);
  });

  describe('URLs', () => {
    it('builds the deployment URL with the default api-version', () => {
      const req = chat.build(input({ node: { resource_name: 'myres', deployment_id: 'gpt4o' } }));
      expect(req.url).to.equal(`https://myres.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=${DEFAULT_API_VERSION}`);
      expect(req.method).to.equal('POST');
    });

    it('builds completions and embeddings URLs with an explicit api-version', () => {
      const node = { resource_name: 'myres', deployment_id: 'emb', api_version: '2025-04-01-preview' };
      expect(azureOpenAI.endpoints.embeddings!.build(input({ node })).url).to.equal(
        'https://myres.openai.azure.com/openai/deployments/emb/embeddings?api-version=2025-04-01-preview',
      );
      expect(azureOpenAI.endpoints.completions!.build(input({ node })).url).to.equal(
        'https://myres.openai.azure.com/openai/deployments/emb/completions?api-version=2025-04-01-preview',
      );
    });

    it('builds the v1 form when api_version is v1 (model from the body, no query)', () => {
      const req = chat.build(input({ node: { resource_name: 'myres', api_version: 'v1' } }));
      expect(req.url).to.equal('https://myres.openai.azure.com/openai/v1/chat/completions');
      expect(JSON.parse(req.body as string).model).to.equal('gpt-4o');
    });

    it('uses the model as the deployment when no deployment_id is given', () => {
      const req = chat.build(input({ node: { resource_name: 'myres' }, body: { model: 'my-deploy', messages: [] } }));
      expect(req.url).to.equal(`https://myres.openai.azure.com/openai/deployments/my-deploy/chat/completions?api-version=${DEFAULT_API_VERSION}`);
    });

    it('encodes the deployment id into one path segment', () => {
      const req = chat.build(input({ node: { resource_name: 'myres', deployment_id: '../x?y' } }));
      expect(req.url).to.equal(`https://myres.openai.azure.com/openai/deployments/..%2Fx%3Fy/chat/completions?api-version=${DEFAULT_API_VERSION}`);
    });

    it('replaces the Azure host with a custom host', () => {
      const req = chat.build(input({ baseURL: 'https://gw.example.com/azure/', node: { deployment_id: 'd1' } }));
      expect(req.url).to.equal(`https://gw.example.com/azure/openai/deployments/d1/chat/completions?api-version=${DEFAULT_API_VERSION}`);
      const v1 = chat.build(input({ baseURL: 'https://gw.example.com', node: { api_version: 'v1' } }));
      expect(v1.url).to.equal('https://gw.example.com/openai/v1/chat/completions');
    });

    it('rejects a resource name that is not a DNS label with a 400 (no SSRF through the hostname)', () => {
      for (const bad of ['evil.com/x', 'a.b', 'attacker.com#', '169.254.169.254', 'x@y', 'with space', '-lead', 'trail-', 'a'.repeat(64), 'ü']) {
        const err = badRequest(() => chat.build(input({ node: { resource_name: bad, deployment_id: 'd' } })));
        expect(err.param).to.equal('config.resource_name');
      }
      badRequest(() => chat.build(input({ headers: { 'x-portkey-azure-resource-name': 'evil.com/' }, node: { deployment_id: 'd' } })));
    });

    it('rejects a missing resource name (without custom host), a missing deployment and a malformed api-version', () => {
      badRequest(() => chat.build(input({ node: { deployment_id: 'd' } })));
      badRequest(() => chat.build(input({ node: { resource_name: 'r' }, body: { messages: [] } })));
      badRequest(() => chat.build(input({ node: { resource_name: 'r', deployment_id: 'd', api_version: '2024&x=1' } })));
    });
  });

  describe('options and auth', () => {
    it('reads options from headers in both dialects, the config node first', () => {
      const req = chat.build(
        input({
          headers: {
            'x-portkey-azure-resource-name': 'pk-res',
            'x-waygate-azure-deployment-id': 'wg-dep',
            'x-portkey-azure-api-version': '2024-06-01',
          },
        }),
      );
      expect(req.url).to.equal('https://pk-res.openai.azure.com/openai/deployments/wg-dep/chat/completions?api-version=2024-06-01');
      const both = azureOptions(input({ node: { resource_name: 'cfg' }, headers: { 'x-waygate-azure-resource-name': 'hdr' } }));
      expect(both.resourceName).to.equal('cfg');
      const wg = azureOptions(input({ headers: { 'x-waygate-azure-resource-name': 'wg', 'x-portkey-azure-resource-name': 'pk' } }));
      expect(wg.resourceName).to.equal('wg');
    });

    it('sends the key as api-key, never as a bearer token', () => {
      const req = chat.build(input({ node: { resource_name: 'r', deployment_id: 'd' } }));
      expect(req.headers).to.include({ 'api-key': 'az-key-1', 'content-type': 'application/json' });
      expect(req.headers).to.not.have.property('authorization');
    });

    it('sends an Entra token from azure_ad_token as a bearer token instead of the key', () => {
      const req = chat.build(input({ node: { resource_name: 'r', deployment_id: 'd', azure_ad_token: 'eyJ.entra' } }));
      expect(req.headers).to.include({ authorization: 'Bearer eyJ.entra' });
      expect(req.headers).to.not.have.property('api-key');
    });

    it('takes the Entra token from the x-portkey-azure-ad-token header, with or without "Bearer "', () => {
      for (const h of ['x-portkey-azure-ad-token', 'x-waygate-azure-ad-token']) {
        const req = chat.build(input({ apiKey: null, node: { resource_name: 'r', deployment_id: 'd' }, headers: { [h]: 'Bearer eyJ.hdr' } }));
        expect(req.headers).to.include({ authorization: 'Bearer eyJ.hdr' });
        expect(req.headers).to.not.have.property('api-key');
      }
    });

    it('passes openai-beta through from the option', () => {
      const req = chat.build(input({ node: { resource_name: 'r', deployment_id: 'd' }, headers: { 'x-portkey-openai-beta': 'assistants=v2' } }));
      expect(req.headers).to.include({ 'openai-beta': 'assistants=v2' });
    });
  });

  describe('bodies', () => {
    it('forwards the client bytes untouched when the body was not changed', () => {
      const raw = Buffer.from('{"model":"gpt-4o",  "data_sources":[{"type":"azure_search"}]}');
      const req = chat.build(input({ rawBody: raw, node: { resource_name: 'r', deployment_id: 'd' } }));
      expect(req.body).to.equal(raw);
    });

    it('serializes the body when it changed', () => {
      const req = azureOpenAI.endpoints.embeddings!.build(input({ body: { model: 'e', input: ['a'] }, node: { resource_name: 'r', deployment_id: 'e' } }));
      expect(JSON.parse(req.body as string)).to.deep.equal({ model: 'e', input: ['a'] });
    });

    it('relays answers and errors unchanged (no mapping functions; the native passthrough relays the upstream’s own error body)', () => {
      for (const [name, ep] of Object.entries(azureOpenAI.endpoints)) {
        if (name === 'passthrough.native') continue;
        expect(ep!.mapResponse).to.equal(undefined);
        expect(ep!.mapError).to.equal(undefined);
      }
      expect(azureOpenAI.endpoints.embeddings!.createStreamTransformer).to.equal(undefined);
    });
  });

  describe('stream transformer', () => {
    const FILTER = [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }];
    const filterEv = { data: JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: FILTER }) };
    const roleEv = {
      data: JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      }),
    };
    const textEv = { data: '{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}' };

    it("attaches the prompt filter results of Azure's first chunk to the next chunk", () => {
      const t = chat.createStreamTransformer!(input());
      expect(t.transform(filterEv)).to.equal(undefined);
      const out = t.transform(roleEv) as { data: string };
      const json = JSON.parse(out.data);
      expect(json.prompt_filter_results).to.deep.equal(FILTER);
      expect(json.object).to.equal('chat.completion.chunk');
      expect(json.choices[0].delta.role).to.equal('assistant');
      expect(t.transform(textEv)).to.equal(textEv);
      expect(t.transform({ data: '[DONE]' })).to.deep.equal({ data: '[DONE]' });
      expect(t.flush!()).to.equal(undefined);
    });

    it('sends a lone filter chunk as a chat.completion.chunk before [DONE]', () => {
      const t = chat.createStreamTransformer!(input());
      t.transform(filterEv);
      const out = t.transform({ data: '[DONE]' }) as Array<{ data: string }>;
      expect(out).to.have.length(2);
      expect(JSON.parse(out[0]!.data)).to.include({ object: 'chat.completion.chunk' });
      expect(out[1]!.data).to.equal('[DONE]');
    });

    it('reports a stream that closed without [DONE]', () => {
      const t = chat.createStreamTransformer!(input());
      t.transform(textEv);
      expect(() => t.flush!()).to.throw(/without \[DONE\]/);
    });
  });
});
