import { expect } from 'chai';
import type { BuildInput, RequestContext, Target } from '@waygate/core';
import plugin, { openai, createOpenAIWireAdapter, FORWARDED_ENDPOINTS } from '../src/index.js';
import { base64WhenAsked } from '../src/adapter.js';

function input(
  over: { body?: Record<string, unknown>; rawBody?: Uint8Array; headers?: Record<string, string>; node?: Record<string, unknown>; apiKey?: string } = {},
): BuildInput {
  const target: Target = {
    provider: 'openai',
    apiKey: over.apiKey ?? 'sk-1',
    baseURL: 'http://127.0.0.1:9/v1',
    node: { provider: 'openai', ...over.node },
    path: 'config',
  };
  const ctx = { headers: over.headers ?? {} } as unknown as RequestContext;
  return { ctx, target, body: over.body ?? { model: 'm' }, rawBody: over.rawBody };
}

describe('@waygate/provider-openai', () => {
  it('has a manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/provider-openai', kind: 'provider', core: '^1.0.0' });
    expect(plugin.manifest.version).to.match(/^\d+\.\d+\.\d+/);
  });

  it('forwards the client bytes untouched when the body was not changed', () => {
    const raw = Buffer.from('{"model":"m",  "brand_new_param":{"x":1}}');
    const req = openai.endpoints['chat.completions']!.build(input({ rawBody: raw }));
    expect(req.url).to.equal('http://127.0.0.1:9/v1/chat/completions');
    expect(req.method).to.equal('POST');
    expect(req.body).to.equal(raw);
    expect(req.headers).to.include({ authorization: 'Bearer sk-1', 'content-type': 'application/json' });
  });

  it('serves moderations: POST {base}/moderations, the client bytes passed through; OpenAI-compatible presets do not by default', () => {
    const raw = Buffer.from('{"model":"omni-moderation-latest","input":["a",{"type":"text","text":"b"}]}');
    const req = openai.endpoints.moderations!.build(input({ rawBody: raw }));
    expect(req.url).to.equal('http://127.0.0.1:9/v1/moderations');
    expect(req.method).to.equal('POST');
    expect(req.body).to.equal(raw);
    expect(req.headers).to.include({ authorization: 'Bearer sk-1' });
    expect(Object.keys(openai.endpoints)).to.deep.equal([
      'chat.completions',
      'completions',
      'embeddings',
      'models',
      'moderations',
      'responses',
      ...FORWARDED_ENDPOINTS,
      'passthrough.native',
      'responses.item',
    ]);
    expect(createOpenAIWireAdapter({ id: 'x' }).endpoints.moderations).to.equal(undefined);
  });

  it('serializes the body when it changed (override_params applied upstream of the adapter)', () => {
    const req = openai.endpoints.embeddings!.build(input({ body: { model: 'e', input: ['a'], dimensions: 4 } }));
    expect(req.url).to.match(/\/embeddings$/);
    expect(JSON.parse(req.body as string)).to.deep.equal({ model: 'e', input: ['a'], dimensions: 4 });
  });

  it('sends organization and project from the config node, else from headers in either dialect', () => {
    const fromConfig = openai.endpoints['chat.completions']!.build(input({ node: { openai_organization: 'org-c', openai_project: 'proj-c' } }));
    expect(fromConfig.headers).to.include({ 'openai-organization': 'org-c', 'openai-project': 'proj-c' });
    const fromHeaders = openai.endpoints['chat.completions']!.build(
      input({ headers: { 'x-portkey-openai-organization': 'org-h', 'x-waygate-openai-project': 'proj-h' } }),
    );
    expect(fromHeaders.headers).to.include({ 'openai-organization': 'org-h', 'openai-project': 'proj-h' });
    const none = openai.endpoints['chat.completions']!.build(input());
    expect(none.headers).to.not.have.property('openai-organization');
  });

  it('lists models with a GET and no body', () => {
    const req = openai.endpoints.models!.build(input({ body: undefined }));
    expect(req).to.include({ method: 'GET', url: 'http://127.0.0.1:9/v1/models' });
    expect(req.body).to.equal(undefined);
  });

  it('encodes float embeddings as base64 when the client asked for base64 and the upstream answered floats', () => {
    const mapResponse = openai.endpoints.embeddings!.mapResponse!;
    expect(mapResponse).to.equal(base64WhenAsked);
    const floats = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5, -0.25, 1.125] }], model: 'e' };
    const asked = input({ body: { model: 'e', input: 'a', encoding_format: 'base64' } });
    const out = mapResponse(floats, asked) as typeof floats & { data: Array<{ embedding: string }> };
    const bytes = Buffer.from(out.data[0]!.embedding, 'base64');
    expect([0, 1, 2].map((i) => bytes.readFloatLE(i * 4))).to.deep.equal([0.5, -0.25, 1.125]);
    expect(out).to.deep.include({ object: 'list', model: 'e' });
    // Floats asked for, or base64 already answered: the answer itself comes back (its bytes are relayed).
    expect(mapResponse(floats, input({ body: { model: 'e', input: 'a' } }))).to.equal(floats);
    const b64 = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: 'AAAAPw==' }] };
    expect(mapResponse(b64, asked)).to.equal(b64);
  });

  it('sends no authorization header without a key, and supports a custom auth header', () => {
    const req = openai.endpoints.completions!.build({ ...input(), target: { ...input().target, apiKey: undefined } });
    expect(req.headers).to.not.have.property('authorization');
    const custom = createOpenAIWireAdapter({ id: 'x', authHeader: (k) => ['api-key', k], endpoints: ['chat.completions'] });
    expect(custom.endpoints['chat.completions']!.build(input()).headers).to.include({ 'api-key': 'sk-1' });
    expect(custom.endpoints.embeddings).to.equal(undefined);
  });
});
