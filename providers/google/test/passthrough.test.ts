// The native passthrough's request to the Gemini API: any path on the API root, the key as `x-goog-api-key`.
import { expect } from 'chai';
import { RequestContext } from '@waygate/core';
import type { BuildInput, PlannedTarget } from '@waygate/core';
import { google } from '../src/index.js';

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
describe('google: passthrough.native', () => {
  const build = google.endpoints['passthrough.native']!.build;

  it('goes to the path below /v1/passthrough/google on generativelanguage.googleapis.com, the key as x-goog-api-key', () => {
    const raw = Buffer.from('{"contents":[]}');
    const req = build(
      nativeInput(
        '/v1/passthrough/google/v1beta/models/gemini-2.0-flash:streamGenerateContent',
        { apiKey: 'AIza-t', baseURL: google.baseURL },
        {
          method: 'POST',
          query: '?alt=sse',
          raw,
          headers: { 'content-type': 'application/json', 'x-goog-api-key': 'caller-sent-another' },
        },
      ),
    );
    expect(req.url).to.equal('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    expect(req.headers).to.deep.equal({ 'content-type': 'application/json', 'x-goog-api-key': 'AIza-t' });
    expect(req.body).to.equal(raw);
  });

  it('a target without a key sends the caller’s own x-goog-api-key (what Google’s SDKs send); with one, the target’s wins', () => {
    const path = '/v1/passthrough/google/v1beta/models';
    expect(build(nativeInput(path, { baseURL: google.baseURL }, { headers: { 'x-goog-api-key': 'AIza-caller' } })).headers).to.deep.equal({
      'x-goog-api-key': 'AIza-caller',
    });
    expect(build(nativeInput(path, { baseURL: google.baseURL })).headers).to.deep.equal({});
  });

  it('the v1 API and the upload path are reachable too', () => {
    expect(build(nativeInput('/v1/passthrough/google/v1/models', { apiKey: 'k', baseURL: google.baseURL })).url).to.equal(
      'https://generativelanguage.googleapis.com/v1/models',
    );
    expect(build(nativeInput('/v1/passthrough/google/upload/v1beta/files', { apiKey: 'k', baseURL: google.baseURL })).url).to.equal(
      'https://generativelanguage.googleapis.com/upload/v1beta/files',
    );
  });
});
