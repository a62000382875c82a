import { expect } from 'chai';
import { EndpointRegistry } from '../src/endpoints.js';
import { NamedRegistry } from '../src/registry.js';
import type { EndpointAdapter, EndpointDefinition } from '../src/contracts.js';

const adapter = (tag: string): EndpointAdapter => ({ build: () => ({ url: `https://${tag}.example`, method: 'POST', headers: {} }) });

describe('EndpointRegistry', () => {
  it('routes by path and method, and refuses a route served twice', () => {
    const reg = new EndpointRegistry();
    reg.register('plugin-a', { id: 'x', routes: [{ method: 'POST', path: '/v1/x' }] });
    expect(reg.route('/v1/x')?.get('POST')?.id).to.equal('x');
    expect(reg.route('/v1/y')).to.equal(undefined);
    expect(() => reg.register('plugin-a', { id: 'y', routes: [{ method: 'POST', path: '/v1/x' }] })).to.throw(/already served by x/);
    expect(() => reg.register('plugin-a', { id: 'x', routes: [] })).to.throw(/already registered by plugin-a/);
    reg.seal();
    expect(() => reg.register('plugin-a', { id: 'z', routes: [] })).to.throw(/sealed/);
  });

  it("serves an endpoint with the provider's own adapter, else through the endpoint's bridge, made once per provider", () => {
    const reg = new EndpointRegistry();
    let wraps = 0;
    const def: EndpointDefinition = {
      id: 'msgs',
      routes: [],
      bridge: {
        via: 'chat.completions',
        wrap(inner, provider) {
          wraps++;
          return { build: (input) => ({ ...inner.build(input), headers: { bridged: provider } }) };
        },
      },
    };
    reg.register('plugin-a', def);
    const own = adapter('own');
    const withOwn = { id: 'p1', endpoints: { msgs: own, 'chat.completions': adapter('chat') } };
    expect(reg.adapterFor(withOwn, 'msgs')).to.equal(own);
    const chatOnly = { id: 'p2', endpoints: { 'chat.completions': adapter('chat') } };
    const bridged = reg.adapterFor(chatOnly, 'msgs')!;
    expect(bridged.build({} as never).headers).to.deep.equal({ bridged: 'p2' });
    expect(reg.adapterFor(chatOnly, 'msgs')).to.equal(bridged);
    expect(wraps).to.equal(1);
    expect(reg.adapterFor({ id: 'p3', endpoints: {} }, 'msgs'), 'no via endpoint, no bridge').to.equal(undefined);
    expect(reg.adapterFor({ id: 'p3', endpoints: {} }, 'unknown')).to.equal(undefined);
  });
});

describe('NamedRegistry', () => {
  it('names both plugins when a name is registered twice, unless the first was a replaceable default', () => {
    const reg = new NamedRegistry<number>('cache backend');
    reg.register('plugin-a', 'simple', 1, { replaceable: true });
    reg.register('plugin-b', 'simple', 2);
    expect(reg.get('simple')).to.equal(2);
    expect(reg.pluginOf('simple')).to.equal('plugin-b');
    expect(() => reg.register('plugin-b', 'simple', 3)).to.throw(/cache backend "simple" is already registered by plugin-b/);
    reg.seal();
    expect(() => reg.register('plugin-a', 'other', 4)).to.throw(/sealed/);
  });
});
