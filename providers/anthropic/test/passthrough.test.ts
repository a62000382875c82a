// The native passthrough's request to Anthropic: any path of its API on the API root, `x-api-key`, `anthropic-version`.
import { expect } from 'chai';
import { RequestContext } from '@waygate/core';
import type { BuildInput, PlannedTarget } from '@waygate/core';
import { anthropic } from '../src/index.js';

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
describe('anthropic: passthrough.native', () => {
  const build = anthropic.endpoints['passthrough.native']!.build;
  const target = { provider: 'anthropic', apiKey: 'sk-ant-target', baseURL: anthropic.baseURL };

  it('goes to the path below /v1/passthrough/anthropic on api.anthropic.com, with x-api-key and the default anthropic-version', () => {
    const raw = Buffer.from('{"requests":[]}');
    const req = build(
      nativeInput('/v1/passthrough/anthropic/v1/messages/batches', target, {
        method: 'POST',
        raw,
        headers: { 'content-type': 'application/json', authorization: 'Bearer gw' },
      }),
    );
    expect(req.url).to.equal('https://api.anthropic.com/v1/messages/batches');
    expect(req.method).to.equal('POST');
    expect(req.body).to.equal(raw);
    expect(req.headers).to.deep.equal({ 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-target' });
  });

  it('the client’s anthropic-version and -beta go as sent; else the target’s options', () => {
    const own = build(
      nativeInput('/v1/passthrough/anthropic/v1/files', target, {
        headers: { 'anthropic-version': '2024-01-01', 'anthropic-beta': 'files-api-2025-04-14' },
      }),
    );
    expect(own.headers).to.include({ 'anthropic-version': '2024-01-01', 'anthropic-beta': 'files-api-2025-04-14' });
    const configured = build(
      nativeInput('/v1/passthrough/anthropic/v1/files', {
        ...target,
        node: { provider: 'anthropic', anthropic_version: '2023-01-01', anthropic_beta: 'b-1' },
      }),
    );
    expect(configured.headers).to.include({ 'anthropic-version': '2023-01-01', 'anthropic-beta': 'b-1' });
  });

  it('a custom host with or without its /v1 is the API root; the query goes along', () => {
    for (const baseURL of ['http://127.0.0.1:9/v1', 'http://127.0.0.1:9/v1/', 'http://127.0.0.1:9']) {
      const req = build(nativeInput('/v1/passthrough/anthropic/v1/models', { ...target, baseURL }, { query: '?limit=5' }));
      expect(req.url).to.equal('http://127.0.0.1:9/v1/models?limit=5');
    }
  });

  it('Anthropic’s error body is relayed as it is', () => {
    const body = { type: 'error', error: { type: 'not_found_error', message: 'Not found' } };
    const err = anthropic.endpoints['passthrough.native']!.mapError!(404, body, {})!;
    expect(err.status).to.equal(404);
    expect(err.toBody()).to.equal(body);
  });
});
