// Which config a native passthrough runs under: the leaf of the request's config that reaches the
// named provider (with what it inherits), else a bare leaf, with the root's policy kept.
import { expect } from 'chai';
import { routeNode } from '../src/index.js';

describe('@waygate/passthrough: the route for a provider', () => {
  it('the first leaf for the provider, with what its ancestors pass down, the root’s policy, never override_params or cache', () => {
    const root = {
      strategy: { mode: 'fallback' },
      retry: { attempts: 2 },
      request_timeout: 3000,
      custom_host: 'http://proxy.example/v1',
      cache: { mode: 'simple' as const },
      input_guardrails: ['g1'],
      override_params: { model: 'gpt-4o' },
      targets: [
        { provider: 'openai', api_key: 'sk-o' },
        {
          strategy: { mode: 'loadbalance' },
          request_timeout: 1000,
          targets: [
            { provider: 'anthropic', api_key: 'sk-a1', anthropic_beta: 'b', override_params: { model: 'claude' } },
            { provider: 'anthropic', api_key: 'sk-a2' },
          ],
        },
      ],
    };
    expect(routeNode(root, 'anthropic')).to.deep.equal({
      retry: { attempts: 2 },
      request_timeout: 1000,
      custom_host: 'http://proxy.example/v1',
      input_guardrails: ['g1'],
      provider: 'anthropic',
      api_key: 'sk-a1',
      anthropic_beta: 'b',
    });
  });

  it('a provider the config does not reach: a bare leaf under the tree’s inherited policy (the caller’s key, or the gateway’s)', () => {
    const root = {
      strategy: { mode: 'fallback' },
      retry: { attempts: 1 },
      custom_host: 'http://proxy.example',
      targets: [{ provider: 'openai', api_key: 'sk-o' }],
    };
    expect(routeNode(root, 'cohere')).to.deep.equal({ retry: { attempts: 1 }, custom_host: 'http://proxy.example', provider: 'cohere' });
  });

  it('a root that is another provider’s leaf gives only the request’s policy: not its key, host or options', () => {
    const root = {
      provider: 'openai',
      api_key: 'sk-o',
      custom_host: 'http://o.example/v1',
      openai_organization: 'org',
      retry: { attempts: 3 },
      deadline: 9000,
    };
    expect(routeNode(root, 'anthropic')).to.deep.equal({ retry: { attempts: 3 }, deadline: 9000, provider: 'anthropic' });
  });

  it('a custom host header the core took as the caller’s goes with a bare leaf (a leaf the config has keeps its own)', () => {
    const root = { provider: 'openai', custom_host: 'http://o.example/v1' };
    expect(routeNode(root, 'anthropic', 'http://a.example/v1')).to.deep.equal({ provider: 'anthropic', custom_host: 'http://a.example/v1' });
    const own = { strategy: { mode: 'fallback' }, targets: [{ provider: 'anthropic', custom_host: 'http://mine.example' }] };
    expect(routeNode(own, 'anthropic', 'http://a.example/v1').custom_host).to.equal('http://mine.example');
  });

  it('a root that is the provider’s own leaf is kept whole, but for override_params', () => {
    const root = { provider: 'anthropic', api_key: 'sk-a', anthropic_version: '2023-06-01', override_params: { max_tokens: 5 } };
    expect(routeNode(root, 'anthropic')).to.deep.equal({ provider: 'anthropic', api_key: 'sk-a', anthropic_version: '2023-06-01' });
  });
});
