// Unit tests: how a request's headers resolve to its routing config, in particular a config header
// with neither `provider` nor `targets` (Portkey's policy-only config: hooks, retry, cache, a
// timeout) over the provider the headers name.
import { expect } from 'chai';
import { RequestContext } from '../src/context.js';
import { checkDepth, resolveRequestConfig } from '../src/request-config.js';
import { newKernel, thrown } from '../src/testing/index.js';
import type { Kernel } from '../src/kernel.js';

describe('request config: a config header without provider or targets', () => {
  let kernel: Kernel;
  before(() => {
    kernel = newKernel();
  });

  function resolve(headers: Record<string, string>): RequestContext {
    const ctx = new RequestContext({
      id: 'req-test',
      endpoint: 'chat.completions',
      method: 'POST',
      path: '/v1/chat/completions',
      headers,
      body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    });
    resolveRequestConfig(ctx, kernel);
    return ctx;
  }

  const policy = { retry: { attempts: 2 }, request_timeout: 5000, cache: { mode: 'simple' }, before_request_hooks: [] };

  it('becomes the leaf of the provider the header names, keeping its policy', () => {
    const ctx = resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-config': JSON.stringify(policy) });
    expect(ctx.config).to.deep.equal({ provider: 'alpha', ...policy });
    expect(ctx.configSource).to.equal('header');
    expect(ctx.dialect).to.equal('portkey');
    // Waygate's header names too.
    expect(resolve({ 'x-waygate-provider': 'beta', 'x-waygate-config': '{"request_timeout":100}' }).config).to.deep.equal({
      provider: 'beta',
      request_timeout: 100,
    });
  });

  it("takes the custom host header as the leaf base URL, over the config's own", () => {
    const cfg = JSON.stringify({ request_timeout: 100, custom_host: 'http://127.0.0.1:1/config' });
    expect(resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-config': cfg }).config.custom_host).to.equal('http://127.0.0.1:1/config');
    const ctx = resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-custom-host': 'http://127.0.0.1:2/header/', 'x-portkey-config': cfg });
    expect(ctx.config).to.include({ provider: 'alpha', custom_host: 'http://127.0.0.1:2/header', request_timeout: 100 });
  });

  it('is built once per (config, provider, custom host) and never holds the request key', () => {
    const cfg = JSON.stringify({ retry: { attempts: 1 }, input_guardrails: [] });
    const a1 = resolve({ 'x-portkey-provider': 'alpha', authorization: 'Bearer sk-one', 'x-portkey-config': cfg }).config;
    const a2 = resolve({ 'x-portkey-provider': 'alpha', authorization: 'Bearer sk-two', 'x-portkey-config': cfg }).config;
    expect(a2, 'the same node for the same headers').to.equal(a1);
    expect(JSON.stringify(a1)).to.not.include('sk-');
    const b = resolve({ 'x-portkey-provider': 'beta', 'x-portkey-config': cfg }).config;
    expect(b.provider).to.equal('beta');
    expect(a1.provider, 'a cached node is not changed by a later request').to.equal('alpha');
    const hosted = resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-custom-host': 'http://127.0.0.1:3', 'x-portkey-config': cfg }).config;
    expect(hosted).to.not.equal(a1);
    expect(hosted.custom_host).to.equal('http://127.0.0.1:3');
    expect(resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-custom-host': 'http://127.0.0.1:3', 'x-portkey-config': cfg }).config).to.equal(hosted);
  });

  it('without a provider header: a 400 saying a provider is needed, in the header or the config', () => {
    const err = thrown(() => resolve({ 'x-portkey-config': JSON.stringify(policy) }));
    expect(err.status).to.equal(400);
    expect(err.code).to.equal('missing_provider');
    expect(err.param).to.equal('x-portkey-config');
    expect(err.message).to.include('x-portkey-config names no provider');
    expect(err.message).to.include('send the provider in x-portkey-provider');
    expect(err.message).to.include('or name it in the config');
    const own = thrown(() => resolve({ 'x-waygate-config': '{"retry":{"attempts":1}}' }));
    expect(own.message).to.include('send the provider in x-waygate-provider (or x-portkey-provider)');
  });

  it('an unknown provider in the header is a 400 naming the header', () => {
    const err = thrown(() => resolve({ 'x-portkey-provider': 'nope', 'x-portkey-config': '{"retry":{"attempts":1}}' }));
    expect(err.status).to.equal(400);
    expect(err.code).to.equal('unknown_provider');
    expect(err.param).to.equal('x-portkey-provider');
  });

  it('the config is still validated: a bad field or a v1 config is a 400 naming it', () => {
    const bad = thrown(() => resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-config': '{"retry":{"attempts":"two"}}' }));
    expect(bad.code).to.equal('invalid_config');
    expect(bad.message).to.include('config.retry.attempts');
    const v1 = thrown(() => resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-config': '{"options":[{"provider":"alpha"}]}' }));
    expect(v1.message).to.match(/version 1 configs/);
  });

  it('a config with a provider or targets ignores the provider header, as before', () => {
    expect(resolve({ 'x-portkey-provider': 'beta', 'x-portkey-config': '{"provider":"alpha"}' }).config).to.deep.equal({ provider: 'alpha' });
    const err = thrown(() => resolve({ 'x-portkey-provider': 'alpha', 'x-portkey-config': '{"targets":[{"provider":"alpha"}]}' }));
    expect(err.message).to.include('strategy');
  });
});

describe('request config: JSON depth', () => {
  const depth = (text: string, max: number) => thrown(() => checkDepth(text, max, 'The body'));

  it('counts the nesting of arrays and objects, and not brackets inside strings (escaped quotes included)', () => {
    expect(() => checkDepth('{"a":[{"b":[1]}]}', 4, 'The body')).to.not.throw();
    expect(depth('{"a":[{"b":[1]}]}', 3)).to.include({ status: 400, message: 'The body is nested deeper than server.maxJsonDepth (3)' });
    expect(() => checkDepth(`{"s":"${'[{'.repeat(500)}","t":"\\"[[[[","u":"\\\\"}`, 1, 'The body')).to.not.throw();
    expect(() => checkDepth('[[],[],[[]]]', 3, 'The body')).to.not.throw();
  });

  it('scans a nesting far deeper than the call stack allows without recursion', () => {
    const n = 1_000_000;
    expect(depth('['.repeat(n) + ']'.repeat(n), 64).message).to.match(/nested deeper than server\.maxJsonDepth \(64\)/);
  });

  it('refuses a config header or a metadata header nested deeper than server.maxJsonDepth, naming the header', () => {
    const kernel = newKernel();
    const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const ctx = (headers: Record<string, string>) =>
      new RequestContext({ id: 'r', endpoint: 'chat.completions', method: 'POST', path: '/v1/chat/completions', headers, body: {} });
    const cfg = thrown(() => resolveRequestConfig(ctx({ 'x-waygate-config': `{"provider":"alpha","override_params":${deep(64)}}` }), kernel));
    expect(cfg).to.include({ status: 400, code: 'invalid_config', param: 'x-waygate-config' });
    expect(cfg.message).to.equal('x-waygate-config is nested deeper than server.maxJsonDepth (64)');
    const meta = thrown(() => resolveRequestConfig(ctx({ 'x-waygate-provider': 'alpha', 'x-waygate-metadata': deep(65) }), kernel));
    expect(meta).to.include({ status: 400, code: 'invalid_header', param: 'metadata' });
    expect(() => resolveRequestConfig(ctx({ 'x-waygate-provider': 'alpha', 'x-waygate-metadata': deep(64) }), kernel)).to.not.throw();
  });
});
