// The list shapes the catalogue reads and writes, and its options.
import { expect } from 'chai';
import { OptionsSchema, anthropicList, entriesOf, modelNotFound } from '../src/index.js';

describe('@waygate/catalogue shapes', () => {
  it('reads OpenAI, Anthropic, Gemini and Bedrock lists as provider/model entries', () => {
    expect(entriesOf('openai', { object: 'list', data: [{ id: 'gpt-4o', created: 5, owned_by: 'system' }] })).to.deep.equal([
      { id: 'openai/gpt-4o', object: 'model', created: 5, owned_by: 'system' },
    ]);
    expect(entriesOf('anthropic', { data: [{ id: 'claude-x', created_at: '1970-01-01T00:00:10Z' }] })![0]).to.include({
      id: 'anthropic/claude-x',
      created: 10,
    });
    expect(entriesOf('google', { models: [{ name: 'models/gemini-2.5-pro' }] })![0]!.id).to.equal('google/gemini-2.5-pro');
    expect(entriesOf('bedrock', { modelSummaries: [{ modelId: 'anthropic.claude-3', providerName: 'Anthropic' }] })![0]).to.include({
      id: 'bedrock/anthropic.claude-3',
      owned_by: 'Anthropic',
    });
  });

  it('refuses malformed lists and skips malformed entries', () => {
    expect(entriesOf('x', 'nope')).to.equal(undefined);
    expect(entriesOf('x', { data: 'nope' })).to.equal(undefined);
    expect(entriesOf('x', { data: [1, null, { id: '' }, { id: 'ok' }] })!.map((m) => m.id)).to.deep.equal(['x/ok']);
  });

  it('writes Anthropic’s list and 404s in both shapes', () => {
    expect(anthropicList([{ id: 'a/b', object: 'model', created: 0, owned_by: 'a' }])).to.deep.include({
      has_more: false,
      first_id: 'a/b',
      last_id: 'a/b',
    });
    expect(modelNotFound(true, 'm').toBody()).to.deep.include({ type: 'error' });
    expect((modelNotFound(false, 'm').toBody() as { error: { code: string } }).error.code).to.equal('model_not_found');
    expect(modelNotFound(false, 'm').status).to.equal(404);
  });

  it('refuses bad options naming the field', () => {
    const bad = OptionsSchema.safeParse({ aliases: { fast: { model: 'x' } } });
    expect(bad.success).to.equal(false);
    expect(OptionsSchema.safeParse({ timeoutMs: 0 }).success).to.equal(false);
    expect(OptionsSchema.safeParse({ other: 1 }).success).to.equal(false);
  });
});
