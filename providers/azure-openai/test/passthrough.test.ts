// The native passthrough's request to Azure OpenAI: the path and query as they came on the resource's host, api-key or Entra.
import { expect } from 'chai';
import { RequestContext } from '@waygate/core';
import type { BuildInput, PlannedTarget } from '@waygate/core';
import { AZURE_HOST_TEMPLATE, azureOpenAI } from '../src/index.js';

function nativeInput(
  path: string,
  target: Partial<PlannedTarget>,
  init: { method?: string; query?: string; headers?: Record<string, string>; raw?: Buffer } = {},
): BuildInput {
  const ctx = new RequestContext({
    id: 'r1',
    endpoint: 'passthrough.native',
    method: init.method ?? 'GET',
    path,
    query: init.query ?? '',
    headers: init.headers ?? {},
    body: undefined,
    rawBody: init.raw,
  });
  return { ctx, target: { provider: 'x', node: { provider: 'x' }, path: 'config', ...target } as PlannedTarget, body: undefined, rawBody: init.raw };
}
describe('azure-openai: passthrough.native', () => {
  const build = azureOpenAI.endpoints['passthrough.native']!.build;
  const path = '/v1/passthrough/azure-openai/openai/deployments/gpt-4o/chat/completions';

  it('goes to the resource’s host with the path and query as they came, the key as api-key', () => {
    const req = build(
      nativeInput(
        path,
        { apiKey: 'az-k', baseURL: AZURE_HOST_TEMPLATE, node: { provider: 'azure-openai', resource_name: 'Contoso' } },
        { query: '?api-version=2024-10-21' },
      ),
    );
    expect(req.url).to.equal('https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    expect(req.headers).to.deep.equal({ 'api-key': 'az-k' });
  });

  it('a target without a key sends the caller’s own api-key header (what Azure’s SDKs send)', () => {
    const req = build(nativeInput(path, { baseURL: 'http://127.0.0.1:9' }, { headers: { 'api-key': 'az-caller' } }));
    expect(req.headers).to.deep.equal({ 'api-key': 'az-caller' });
  });

  it('an Entra token replaces the key; a custom host is the root', () => {
    const req = build(
      nativeInput(path, { apiKey: 'az-k', baseURL: 'http://127.0.0.1:9', node: { provider: 'azure-openai', azure_ad_token: 'Bearer ey.t' } }),
    );
    expect(req.url).to.equal('http://127.0.0.1:9/openai/deployments/gpt-4o/chat/completions');
    expect(req.headers).to.deep.equal({ authorization: 'Bearer ey.t' });
  });

  it('without a resource name or custom host: the 400 that says so', () => {
    expect(() => build(nativeInput(path, { apiKey: 'k', baseURL: AZURE_HOST_TEMPLATE }))).to.throw(/needs resource_name/);
  });
});
