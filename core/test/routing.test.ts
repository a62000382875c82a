import { expect } from 'chai';
import { inherit, bearerKey } from '../src/routing.js';
import type { RequestContext } from '../src/context.js';

describe('routing helpers', () => {
  it('inherits policy keys unless the child sets its own, and merges override_params child-first', () => {
    const parent = { strategy: { mode: 'fallback' }, retry: { attempts: 3 }, request_timeout: 1000, custom_host: 'http://a', override_params: { model: 'p', temperature: 0 } };
    const child = { provider: 'openai', request_timeout: 50, override_params: { model: 'c' } };
    const merged = inherit(parent, child);
    expect(merged).to.deep.include({ provider: 'openai', retry: { attempts: 3 }, request_timeout: 50, custom_host: 'http://a' });
    expect(merged.override_params).to.deep.equal({ model: 'c', temperature: 0 });
    expect(merged).to.not.have.property('strategy');
    expect(child).to.not.have.property('retry');
  });

  it('reads a bearer key case-insensitively and ignores other schemes', () => {
    const ctx = (h: Record<string, string>) => ({ headers: h }) as unknown as RequestContext;
    expect(bearerKey(ctx({ authorization: 'Bearer sk-1' }))).to.equal('sk-1');
    expect(bearerKey(ctx({ authorization: 'bearer  sk-2 ' }))).to.equal('sk-2');
    expect(bearerKey(ctx({ authorization: 'Basic abc' }))).to.equal(undefined);
    expect(bearerKey(ctx({}))).to.equal(undefined);
  });

  it("falls back to x-api-key (Anthropic's SDKs) when there is no bearer token", () => {
    const ctx = (h: Record<string, string>) => ({ headers: h }) as unknown as RequestContext;
    expect(bearerKey(ctx({ 'x-api-key': 'sk-ant-1' }))).to.equal('sk-ant-1');
    expect(bearerKey(ctx({ 'x-api-key': ' sk-ant-2 ' }))).to.equal('sk-ant-2');
    expect(bearerKey(ctx({ authorization: 'Bearer sk-1', 'x-api-key': 'sk-ant-1' })), 'the bearer wins').to.equal('sk-1');
    expect(bearerKey(ctx({ authorization: 'Basic abc', 'x-api-key': 'sk-ant-3' }))).to.equal('sk-ant-3');
    expect(bearerKey(ctx({ 'x-api-key': '  ' }))).to.equal(undefined);
  });
});
