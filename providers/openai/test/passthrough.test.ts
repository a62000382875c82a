// The native passthrough's request to OpenAI: any path on the API root, Bearer key and OpenAI's own headers.
import { expect } from 'chai';
import { RequestContext } from '@waygate/core';
import type { BuildInput, PlannedTarget } from '@waygate/core';
import { createOpenAIWireAdapter, openai } from '../src/index.js';

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
describe('openai: passthrough.native', () => {
  it('goes to the path below /v1/passthrough/openai on api.openai.com, Bearer key, organization from the config', () => {
    const req = openai.endpoints['passthrough.native']!.build(
      nativeInput(
        '/v1/passthrough/openai/v1/vector_stores/vs_1/files',
        { apiKey: 'sk-t', baseURL: openai.baseURL, node: { provider: 'openai', openai_organization: 'org-1' } },
        {
          query: '?limit=3',
          headers: { 'openai-beta': 'assistants=v2' },
        },
      ),
    );
    expect(req.url).to.equal('https://api.openai.com/v1/vector_stores/vs_1/files?limit=3');
    expect(req.headers).to.deep.equal({ 'openai-beta': 'assistants=v2', authorization: 'Bearer sk-t', 'openai-organization': 'org-1' });
  });

  it('every OpenAI-wire adapter that forwards /v1/* serves it; one that does not, does not', () => {
    const withIt = createOpenAIWireAdapter({
      id: 'w',
      baseURL: 'https://w.example/openai/v1',
      endpoints: ['chat.completions', 'passthrough'],
      authHeader: (k) => ['x-w-key', k],
    });
    const req = withIt.endpoints['passthrough.native']!.build(nativeInput('/v1/passthrough/w/v1/models', { apiKey: 'k', baseURL: withIt.baseURL }));
    expect(req.url).to.equal('https://w.example/openai/v1/models');
    expect(req.headers).to.deep.equal({ 'x-w-key': 'k' });
    expect(createOpenAIWireAdapter({ id: 'n', endpoints: ['chat.completions'] }).endpoints).to.not.have.property('passthrough.native');
  });
});
