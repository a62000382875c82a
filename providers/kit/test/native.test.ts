import { expect } from 'chai';
import { GatewayError, RequestContext } from '@waygate/core';
import type { BuildInput, PlannedTarget } from '@waygate/core';
import { apiRoot, forwardedHeaders, nativePassthrough, nativeRoute, relayError } from '../src/index.js';

function fails(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(GatewayError);
    return e as GatewayError;
  }
  return expect.fail('expected a GatewayError');
}

function input(
  path: string,
  init: { method?: string; query?: string; headers?: Record<string, string | string[]>; raw?: Uint8Array; body?: Record<string, unknown> } = {},
  target: Partial<PlannedTarget> = {},
): BuildInput {
  const ctx = new RequestContext({
    id: 'r1',
    endpoint: 'passthrough.native',
    method: init.method ?? 'GET',
    path,
    query: init.query ?? '',
    headers: init.headers ?? {},
    body: init.body,
    rawBody: init.raw,
  });
  const t: PlannedTarget = {
    provider: 'x',
    apiKey: 'sk-target',
    baseURL: 'https://api.example.com/v1',
    node: { provider: 'x' },
    path: 'config',
    ...target,
  };
  return { ctx, target: t, body: init.body, rawBody: init.raw };
}

describe('native passthrough', () => {
  describe('nativeRoute', () => {
    it('splits the provider from the path below it, kept as it came', () => {
      expect(nativeRoute('/v1/passthrough/anthropic/v1/messages/batches')).to.deep.equal({ provider: 'anthropic', rest: 'v1/messages/batches' });
      expect(nativeRoute('/v1/passthrough/google/v1beta/models/gemini-2.0-flash:countTokens').rest).to.equal('v1beta/models/gemini-2.0-flash:countTokens');
      expect(nativeRoute('/v1/passthrough/openai/v1/files/').rest).to.equal('v1/files/');
      expect(nativeRoute('/v1/passthrough/openai/v1/a%20b/c~d').rest).to.equal('v1/a%20b/c~d');
      expect(nativeRoute('/v1/passthrough/azure-openai/openai/deployments/d-1/chat/completions').provider).to.equal('azure-openai');
    });

    const refused: Array<[string, RegExp]> = [
      ['/v1/passthrough/anthropic/../x', /"\." and "\.\." segments/],
      ['/v1/passthrough/anthropic/v1/./x', /"\." and "\.\." segments/],
      ['/v1/passthrough/anthropic/v1/%2e%2e/x', /percent-encoded dots/],
      ['/v1/passthrough/anthropic/v1/%2E./x', /percent-encoded dots/],
      ['/v1/passthrough/anthropic/v1%2fx', /percent-encoded dots, slashes/],
      ['/v1/passthrough/anthropic/v1%5Cx', /backslashes/],
      ['/v1/passthrough/anthropic/v1/%0d%0aHost:x', /control characters/],
      ['/v1/passthrough/anthropic/v1\\x', /backslashes are not allowed/],
      ['/v1/passthrough/anthropic//evil.example/x', /empty/],
      ['/v1/passthrough/anthropic/v1//x', /empty/],
      ['/v1/passthrough/anthropic/http://evil.example/x', /absolute URL/],
      ['/v1/passthrough/anthropic/javascript:alert(1)', /absolute URL/],
      ['/v1/passthrough/anthropic/v1/a#b', /characters a URL path cannot/],
      ['/v1/passthrough/anthropic/v1/a b', /characters a URL path cannot/],
      ['/v1/passthrough/anthropic/v1/%zz', /characters a URL path cannot/],
      ['/v1/passthrough/anthropic', /name the provider's own path/],
      ['/v1/passthrough/anthropic/', /name the provider's own path/],
      ['/v1/passthrough/Anthropic/v1/x', /is not a provider slug/],
      ['/v1/passthrough/../v1/x', /is not a provider slug/],
      ['/v1/other/anthropic/x', /must start with/],
    ];
    for (const [path, why] of refused) {
      it(`refuses ${JSON.stringify(path)} with a 400`, () => {
        const err = fails(() => nativeRoute(path));
        expect(err.status).to.equal(400);
        expect(err.code).to.equal('invalid_request');
        expect(err.message).to.match(why);
      });
    }
  });

  it('apiRoot drops the version segment (and trailing slashes) only', () => {
    expect(apiRoot('https://api.openai.com/v1')).to.equal('https://api.openai.com');
    expect(apiRoot('https://generativelanguage.googleapis.com/v1beta/')).to.equal('https://generativelanguage.googleapis.com');
    expect(apiRoot('https://api.cohere.com/v2')).to.equal('https://api.cohere.com');
    expect(apiRoot('https://api.groq.com/openai/v1')).to.equal('https://api.groq.com/openai');
    expect(apiRoot('http://127.0.0.1:9/proxy')).to.equal('http://127.0.0.1:9/proxy');
    expect(apiRoot('https://x.example/v1alpha1')).to.equal('https://x.example');
    expect(apiRoot('https://x.example/v1/models')).to.equal('https://x.example/v1/models');
  });

  it('forwardedHeaders keeps the client’s own headers, drops hop-by-hop, credential and gateway ones, and those Connection names', () => {
    const { ctx } = input('/v1/passthrough/x/v1/y', {
      headers: {
        connection: 'keep-alive, X-Private-Hop',
        'x-private-hop': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        host: 'gateway.local',
        'content-length': '12',
        'accept-encoding': 'gzip, br',
        authorization: 'Bearer gateway-key',
        'x-api-key': 'k',
        'api-key': 'k',
        'x-goog-api-key': 'k',
        'proxy-authorization': 'Basic x',
        cookie: 'a=b',
        'x-forwarded-for': '10.0.0.1',
        'x-waygate-config': '{}',
        'x-portkey-provider': 'x',
        'anthropic-beta': 'files-api-2025-04-14',
        'idempotency-key': 'abc',
        accept: 'text/event-stream',
        'x-multi': ['a', 'b'],
      },
    });
    expect(forwardedHeaders(ctx)).to.deep.equal({
      'anthropic-beta': 'files-api-2025-04-14',
      'idempotency-key': 'abc',
      accept: 'text/event-stream',
      'x-multi': 'a, b',
    });
  });

  describe('the endpoint adapter', () => {
    const adapter = nativePassthrough('x', {
      auth: (i) => ({ 'x-key': i.target.apiKey, 'x-none': undefined }),
      defaults: () => ({ 'x-version': '2023-06-01', 'x-unset': undefined }),
    });

    it('sends the path below the provider and the query to the API root, the key in its header over the client’s', () => {
      const req = adapter.build(
        input('/v1/passthrough/x/v1/models', { query: '?limit=2&after=m%201', headers: { 'x-key': 'client', 'x-version': 'client-v' } }),
      );
      expect(req).to.deep.equal({
        url: 'https://api.example.com/v1/models?limit=2&after=m%201',
        method: 'GET',
        headers: { 'x-key': 'sk-target', 'x-version': 'client-v' },
      });
    });

    it('a POST carries the client’s bytes and content type; the defaults fill what the client did not send', () => {
      const raw = Buffer.from('--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n\u0000\u00ff\r\n--b--');
      const req = adapter.build(
        input('/v1/passthrough/x/v1/files', { method: 'POST', raw, headers: { 'content-type': 'multipart/form-data; boundary=b' } }),
      );
      expect(req.method).to.equal('POST');
      expect(req.body).to.equal(raw);
      expect(req.headers).to.deep.equal({ 'content-type': 'multipart/form-data; boundary=b', 'x-version': '2023-06-01', 'x-key': 'sk-target' });
    });

    it('a body a plugin replaced is sent as JSON; a POST without one sends an empty body', () => {
      const changed = adapter.build(
        input('/v1/passthrough/x/v1/a', { method: 'POST', body: { redacted: true }, headers: { 'content-type': 'application/json' } }),
      );
      expect(changed.body).to.equal('{"redacted":true}');
      const empty = adapter.build(input('/v1/passthrough/x/v1/a/cancel', { method: 'POST' }));
      expect(Buffer.from(empty.body as Uint8Array).length).to.equal(0);
      expect(empty.headers['content-type']).to.equal('application/octet-stream');
    });

    it('without a key no auth header is sent; a custom host is the root', () => {
      const req = adapter.build(input('/v1/passthrough/x/v2/rerank', {}, { apiKey: undefined, baseURL: 'http://127.0.0.1:8080/proxy/v2' }));
      expect(req.url).to.equal('http://127.0.0.1:8080/proxy/v2/rerank');
      expect(req.headers).to.not.have.property('x-key');
    });

    it('a path that would escape is refused at build too, whatever made the context', () => {
      expect(fails(() => adapter.build(input('/v1/passthrough/x/v1/../../y'))).status).to.equal(400);
    });

    it('relays stream events as they came (copies: no event needs to be JSON)', () => {
      const t = adapter.createStreamTransformer!(input('/v1/passthrough/x/v1/s'));
      const ev = { event: 'ping', data: 'not json' };
      const out = t.transform(ev);
      expect(out).to.deep.equal(ev);
      expect(out).to.not.equal(ev);
    });
  });

  it('relayError keeps the status, the upstream’s JSON body as it is, and retryability', () => {
    const map = relayError('anthropic');
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    const err = map(529, body);
    expect(err.status).to.equal(529);
    expect(err.retryable).to.equal(true);
    expect(err.toBody()).to.equal(body);
    expect(err.message).to.equal('anthropic: Overloaded');
    const bad = map(400, { message: 'invalid request' });
    expect(bad.retryable).to.equal(false);
    expect(bad.message).to.equal('anthropic: invalid request');
    const text = map(502, '<html>Bad gateway</html>');
    expect(text.retryable).to.equal(true);
    expect((text.toBody() as { error: { message: string } }).error.message).to.equal('anthropic: <html>Bad gateway</html>');
  });
});
