// The native passthrough of OpenAI-compatible presets: the path on the preset's API root (its base
// URL without the version), the key as a bearer token, and a templated base URL filled first.
import { expect } from 'chai';
import { RequestContext } from '@waygate/core';
import type { BuildInput, PlannedTarget } from '@waygate/core';
import { presetAdapters } from '../src/adapter.js';
import { optionsSchema } from '../src/options.js';
import { PRESETS } from '../src/index.js';

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
describe('openai-compatible: passthrough.native', () => {
  const adapters = new Map(presetAdapters(optionsSchema.parse({})).map((a) => [a.id, a]));

  it('every preset serves it', () => {
    for (const id of Object.keys(PRESETS)) expect(adapters.get(id)!.endpoints, id).to.have.property('passthrough.native');
  });

  it('Groq: /v1/passthrough/groq/v1/models → https://api.groq.com/openai/v1/models with its key', () => {
    const groq = adapters.get('groq')!;
    const req = groq.endpoints['passthrough.native']!.build(nativeInput('/v1/passthrough/groq/v1/models', { apiKey: 'gsk-t', baseURL: groq.baseURL }));
    expect(req.url).to.equal('https://api.groq.com/openai/v1/models');
    expect(req.headers).to.deep.equal({ authorization: 'Bearer gsk-t' });
  });

  it('a templated base URL is filled from the target’s options first (and refused without them)', () => {
    const db = adapters.get('databricks')!;
    const req = db.endpoints['passthrough.native']!.build(
      nativeInput('/v1/passthrough/databricks/api/2.0/serving-endpoints', {
        apiKey: 'dapi-t',
        baseURL: db.baseURL,
        node: { provider: 'databricks', databricks_workspace: 'dbc-1234' },
      }),
    );
    expect(req.url).to.equal('https://dbc-1234.cloud.databricks.com/serving-endpoints/api/2.0/serving-endpoints');
    expect(() => db.endpoints['passthrough.native']!.build(nativeInput('/v1/passthrough/databricks/x', { baseURL: db.baseURL }))).to.throw(
      /needs databricks_workspace/,
    );
  });
});
