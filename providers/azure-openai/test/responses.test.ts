import { expect } from 'chai';
import type { BuildInput, RequestContext } from '@waygate/core';
import { azureOpenAI, AZURE_HOST_TEMPLATE } from '../src/index.js';

const responses = azureOpenAI.endpoints.responses!;

function input(node: Record<string, unknown>, raw?: string): BuildInput {
  const ctx = { headers: {} } as unknown as RequestContext;
  const target = {
    provider: 'azure-openai',
    apiKey: 'az-key-1',
    baseURL: AZURE_HOST_TEMPLATE,
    node: { provider: 'azure-openai', ...node },
    path: 'config',
  };
  return { ctx, target, body: { model: 'gpt-5', input: 'hi' }, rawBody: raw === undefined ? undefined : new TextEncoder().encode(raw) };
}

describe('@waygate/provider-azure-openai: the Responses API, passed through', () => {
  it('sends the v1 URL by default, with the api-key and the exact bytes', () => {
    const raw = '{"model":"gpt-5","input":"hi","new_field":1}';
    const req = responses.build(input({ resource_name: 'my-res' }, raw));
    expect(req.url).to.equal('https://my-res.openai.azure.com/openai/v1/responses');
    expect(req.headers['api-key']).to.equal('az-key-1');
    expect(new TextDecoder().decode(req.body as Uint8Array)).to.equal(raw);
  });

  it('uses the api-version URL for a dated version, and an Entra token when given', () => {
    const req = responses.build(input({ resource_name: 'my-res', api_version: '2025-04-01-preview', azure_ad_token: 'Bearer tok' }));
    expect(req.url).to.equal('https://my-res.openai.azure.com/openai/responses?api-version=2025-04-01-preview');
    expect(req.headers.authorization).to.equal('Bearer tok');
    expect(req.headers['api-key']).to.equal(undefined);
  });
});
