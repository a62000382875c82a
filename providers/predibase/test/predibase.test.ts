// Where a Predibase request goes: the tenant (option, header or Portkey's `user`), the deployment and
// adapter from the model, a custom host in place of the serving origin, and the 400s for what is
// missing or unsafe in a URL.
import { expect } from 'chai';
import type { BuildInput } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import plugin, { DEFAULT_BASE_URL, predibase, predibaseRequest } from '../src/index.js';

function input(
  body: Record<string, unknown>,
  node: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  baseURL = DEFAULT_BASE_URL,
): BuildInput {
  const ctx = { id: 'req-1', headers } as unknown as BuildInput['ctx'];
  return { ctx, target: { provider: 'predibase', apiKey: 'pb_key-123456', baseURL, node: { provider: 'predibase', ...node }, path: 'config' }, body };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('@waygate/provider-predibase routing', () => {
  it('registers the predibase slug with chat and completions, at Predibase’s serving origin', async () => {
    const seen: string[] = [];
    await plugin.setup({ register: { provider: (a: { id: string }) => seen.push(a.id) } } as never, {});
    expect(seen).to.deep.equal(['predibase']);
    expect(Object.keys(predibase.endpoints).sort()).to.deep.equal(['chat.completions', 'completions']);
    expect(predibase.baseURL).to.equal('https://serving.app.predibase.com');
  });

  it('takes the tenant from the option, the Portkey header or the body’s user; the deployment and adapter from the model', () => {
    const a = predibaseRequest(input(chat('llama-3-8b:repo/3@7'), { predibase_tenant_id: 'T1' }), 'chat');
    expect(a.url).to.equal('https://serving.app.predibase.com/T1/deployments/v2/llms/llama-3-8b/generate');
    expect(JSON.parse(a.body as string).parameters).to.include({ adapter_id: 'repo/3@7', adapter_source: 'pbase' });
    expect(a.headers.authorization).to.equal('Bearer pb_key-123456');
    const b = predibaseRequest(input(chat('mistral-7b', { stream: true }), {}, { 'x-portkey-predibase-tenant-id': 'T2' }), 'chat');
    expect(b.url).to.equal('https://serving.app.predibase.com/T2/deployments/v2/llms/mistral-7b/generate_stream');
    expect(JSON.parse(b.body as string).parameters).not.to.have.property('adapter_id');
    const c = predibaseRequest(input({ model: 'x:ad/1', prompt: 'p', user: 'T3' }, { predibase_deployment: 'my-dep' }), 'completion');
    expect(c.url).to.equal('https://serving.app.predibase.com/T3/deployments/v2/llms/my-dep/generate');
    expect(JSON.parse(c.body as string)).to.deep.equal({ inputs: 'p', parameters: { adapter_id: 'ad/1', adapter_source: 'pbase', details: true } });
    const own = predibaseRequest(input(chat('d:ad/1', { parameters: { adapter_source: 'hub' } }), { predibase_tenant_id: 'T' }), 'chat');
    expect(JSON.parse(own.body as string).parameters.adapter_source).to.equal('hub');
  });

  it('puts the tenant and deployment after a custom host', () => {
    const r = predibaseRequest(input(chat('dep'), { predibase_tenant_id: 'T' }, {}, 'http://127.0.0.1:9/'), 'chat');
    expect(r.url).to.equal('http://127.0.0.1:9/T/deployments/v2/llms/dep/generate');
  });

  it('refuses a missing or unsafe tenant, deployment or adapter with a 400 naming the field', () => {
    const none = thrown(() => predibaseRequest(input(chat('dep')), 'chat'));
    expect([none.status, none.code, none.param]).to.deep.equal([400, 'invalid_config', 'config.predibase_tenant_id']);
    expect(thrown(() => predibaseRequest(input(chat('dep'), { predibase_tenant_id: '..' }), 'chat')).param).to.equal('config.predibase_tenant_id');
    expect(thrown(() => predibaseRequest(input(chat('a/../../x'), { predibase_tenant_id: 'T' }), 'chat')).param).to.equal('model');
    expect(thrown(() => predibaseRequest(input(chat(''), { predibase_tenant_id: 'T' }), 'chat')).param).to.equal('model');
    expect(thrown(() => predibaseRequest(input(chat('dep:'), { predibase_tenant_id: 'T' }), 'chat')).param).to.equal('model');
  });
});
