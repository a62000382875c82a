import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { BuildInput, RequestContext, Target } from '@waygate/core';
import { anthropic } from '../src/index.js';

const messages = anthropic.endpoints.messages!;
const countTokens = anthropic.endpoints['messages.count_tokens']!;

function input(
  over: { body?: Record<string, unknown>; raw?: string; headers?: Record<string, string>; node?: Record<string, unknown>; apiKey?: string } = {},
): BuildInput {
  const target: Target = {
    provider: 'anthropic',
    apiKey: over.apiKey ?? 'sk-ant-1',
    baseURL: 'http://127.0.0.1:9/v1',
    node: { provider: 'anthropic', ...over.node },
    path: 'config',
  };
  const ctx = { headers: over.headers ?? {} } as unknown as RequestContext;
  const body = over.body ?? { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
  return { ctx, target, body, rawBody: over.raw === undefined ? undefined : new TextEncoder().encode(over.raw) };
}

describe('anthropic: the messages endpoints (pass-through)', () => {
  it("sends the client's bytes as they are to /messages and /messages/count_tokens", () => {
    const raw =
      '{"model":"claude","max_tokens":5,  "messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],"future_field":{"x":1}}';
    const req = messages.build(input({ raw, body: JSON.parse(raw) }));
    expect(req.url).to.equal('http://127.0.0.1:9/v1/messages');
    expect(req.method).to.equal('POST');
    expect(Buffer.from(req.body as Uint8Array).toString('utf8')).to.equal(raw);
    expect(req.headers).to.deep.equal({ 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-1' });
    expect(countTokens.build(input({ raw })).url).to.equal('http://127.0.0.1:9/v1/messages/count_tokens');
  });

  it('serializes the body when it changed (override_params), and translates nothing either way', () => {
    const req = messages.build(input({ body: { model: 'claude-opus', max_tokens: 5, messages: [] } }));
    expect(JSON.parse(String(req.body))).to.deep.equal({ model: 'claude-opus', max_tokens: 5, messages: [] });
    expect(messages.mapResponse).to.equal(undefined);
    expect(messages.createStreamTransformer).to.equal(undefined);
    expect(countTokens.mapResponse).to.equal(undefined);
  });

  it("sends the client's anthropic-version, else the target's, and the union of the betas", () => {
    const h = (over: Parameters<typeof input>[0]) => messages.build(input(over)).headers;
    expect(h({ headers: { 'anthropic-version': '2023-01-01' }, node: { anthropic_version: '2022-01-01' } })['anthropic-version']).to.equal('2023-01-01');
    expect(h({ node: { anthropic_version: '2022-01-01' } })['anthropic-version']).to.equal('2022-01-01');
    expect(h({ headers: { 'x-waygate-anthropic-version': '2021-01-01' } })['anthropic-version']).to.equal('2021-01-01');
    expect(h({ headers: { 'anthropic-beta': 'a-1, b-2' }, node: { anthropic_beta: 'b-2,c-3' } })['anthropic-beta']).to.equal('a-1,b-2,c-3');
    expect(h({})).to.not.have.property('anthropic-beta');
    expect(h({ apiKey: '' })).to.not.have.property('x-api-key');
    expect(h({ headers: { authorization: 'Bearer x' } })).to.not.have.property('authorization');
  });

  it("maps Anthropic's errors with their status, message and retryability", () => {
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    const err = messages.mapError!(529, body, {})!;
    expect(err).to.be.instanceOf(GatewayError);
    expect(err).to.include({ status: 529, retryable: true, message: 'Overloaded' });
    expect(err.upstream!.body).to.equal(body);
    expect(countTokens.mapError!(400, { type: 'error', error: { type: 'invalid_request_error', message: 'bad' } }, {})!.retryable).to.equal(false);
  });
});
