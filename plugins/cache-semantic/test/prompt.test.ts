import { expect } from 'chai';
import { makeCtx, newKernel } from '@waygate/core/testing';
import { partitionKey, semanticPrompt, textOf, overridesPrompt } from '../src/index.js';
import type { EligibilityLimits } from '../src/index.js';
import type { Target } from '@waygate/core';

const limits: EligibilityLimits = { maxContextMessages: 4, maxContextChars: 200, maxPromptChars: 100 };
const user = (content: unknown) => ({ role: 'user', content });

function reason(endpoint: string, body: Record<string, unknown>): string | undefined {
  const p = semanticPrompt(endpoint, body, limits);
  return p.eligible ? undefined : p.reason;
}

describe('@waygate/cache-semantic eligibility and partitions', () => {
  it('compares the last user message of a chat, as a string or text parts', () => {
    const p = semanticPrompt(
      'chat.completions',
      { model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, user('What is the capital of France?')] },
      limits,
    );
    expect(p.eligible && p.text).to.equal('What is the capital of France?');
    const parts = semanticPrompt(
      'chat.completions',
      {
        model: 'm',
        messages: [
          user([
            { type: 'text', text: 'Hello' },
            { type: 'text', text: 'there' },
          ]),
        ],
      },
      limits,
    );
    expect(parts.eligible && parts.text).to.equal('Hello\nthere');
  });

  it('compares an Anthropic messages prompt and counts its system prompt as context', () => {
    const body = { model: 'claude', max_tokens: 10, system: [{ type: 'text', text: 'Be brief.' }], messages: [user([{ type: 'text', text: 'Hi' }])] };
    const p = semanticPrompt('messages', body, limits);
    expect(p.eligible && p.text).to.equal('Hi');
    const long = { ...body, system: 'x'.repeat(201) };
    expect(reason('messages', long)).to.match(/characters of context/);
    expect(reason('messages', { ...body, messages: [user([{ type: 'tool_result', tool_use_id: 't', content: 'r' }])] })).to.match(/not text only/);
    expect(reason('messages', { ...body, system: [{ type: 'image', source: {} }] })).to.match(/system prompt/);
  });

  it('compares the prompt of a legacy completion', () => {
    const p = semanticPrompt('completions', { model: 'm', prompt: 'Say hi', max_tokens: 5 }, limits);
    expect(p.eligible && p.text).to.equal('Say hi');
    expect(p.eligible && p.rest).to.deep.equal({ model: 'm', max_tokens: 5 });
    expect(semanticPrompt('completions', { model: 'm', prompt: ['Say hi'] }, limits).eligible).to.equal(true);
    expect(reason('completions', { model: 'm', prompt: ['a', 'b'] })).to.match(/one string/);
    expect(reason('completions', { model: 'm', prompt: 'a', best_of: 3 })).to.match(/best_of/);
  });

  it('refuses what does not depend only on the last user message and a small context', () => {
    const base = { model: 'm', messages: [user('hi')] };
    expect(reason('embeddings', { model: 'e', input: 'x' })).to.match(/endpoint/);
    expect(reason('chat.completions', { ...base, tools: [{ type: 'function', function: { name: 'f' } }] })).to.match(/tools/);
    expect(reason('chat.completions', { ...base, n: 2 })).to.match(/\(n\)/);
    expect(reason('chat.completions', { ...base, messages: [user('hi'), { role: 'assistant', content: 'hello' }] })).to.match(/not the user's/);
    expect(
      reason('chat.completions', {
        ...base,
        messages: [
          user([
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: 'data:' } },
          ]),
        ],
      }),
    ).to.match(/not text only/);
    expect(reason('chat.completions', { ...base, messages: [user('   ')] })).to.match(/empty/);
    expect(reason('chat.completions', { ...base, messages: [user('x'.repeat(101))] })).to.match(/longer than 100/);
    const five = Array.from({ length: 5 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
    expect(reason('chat.completions', { ...base, messages: [...five, user('hi')] })).to.match(/more than 4 messages/);
    expect(reason('chat.completions', { ...base, messages: [{ role: 'system', content: 'x'.repeat(201) }, user('hi')] })).to.match(/200 characters/);
    const toolTurn = [
      user('weather?'),
      { role: 'assistant', content: null, tool_calls: [{ id: '1', type: 'function', function: { name: 'w', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: '1', content: 'sunny' },
      user('and tomorrow?'),
    ];
    expect(reason('chat.completions', { ...base, messages: toolTurn })).to.match(/tool/);
    expect(
      reason('chat.completions', { ...base, messages: [{ role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } }, user('x')] }),
    ).to.match(/tool calls/);
    // Within the limits: eligible.
    expect(reason('chat.completions', { ...base, messages: [...five.slice(0, 4), user('hi')] })).to.equal(undefined);
  });

  it('textOf reads strings and text-only part lists', () => {
    expect(textOf('a')).to.equal('a');
    expect(
      textOf([
        { type: 'text', text: 'a' },
        { type: 'refusal', refusal: 'b' },
      ]),
    ).to.equal('a\nb');
    expect(textOf([{ type: 'input_audio', input_audio: {} }])).to.equal(undefined);
    expect(textOf(42)).to.equal(undefined);
  });

  describe('partitionKey', () => {
    const kernel = newKernel();
    const target = (extra: Record<string, unknown> = {}): Target => ({
      provider: 'alpha',
      apiKey: 'sk-1',
      baseURL: 'https://alpha.example/v1',
      node: { provider: 'alpha', ...extra },
      path: 'config',
    });
    const key = (body: Record<string, unknown>, t = target(), headers: Record<string, string> = {}, embedder = 'emb') => {
      const ctx = makeCtx(kernel, { provider: 'alpha' }, { body, headers });
      const p = semanticPrompt('chat.completions', body, limits);
      if (!p.eligible) throw new Error(p.reason);
      return partitionKey(ctx, t, p.rest, embedder);
    };
    const chat = (last: string, extra: Record<string, unknown> = {}, system = 'Be brief.') => ({
      model: 'm',
      messages: [{ role: 'system', content: system }, user(last)],
      ...extra,
    });

    it('ignores the compared text and the fields that never change an answer', () => {
      const k = key(chat('What is the capital of France?'));
      expect(key(chat('Capital of France?'))).to.equal(k);
      expect(key(chat('Capital of France?', { stream: true, stream_options: { include_usage: true }, user: 'u1' }))).to.equal(k);
    });

    it('changes with the system prompt, any parameter, the target, the key, the namespace and the embedder', () => {
      const k = key(chat('q'));
      const others = [
        key(chat('q', {}, 'Be verbose.')),
        key(chat('q', { temperature: 0.2 })),
        key({ ...chat('q'), model: 'm2' }),
        key(chat('q'), target({ resource_name: 'other' })),
        key(chat('q'), { ...target(), apiKey: 'sk-2' }),
        key(chat('q'), { ...target(), baseURL: 'https://elsewhere.example/v1' }),
        key(chat('q'), target({ override_params: { temperature: 0 } })),
        key(chat('q'), target(), { 'x-waygate-cache-namespace': 'tenant-b' }),
        key(chat('q'), target(), {}, 'emb2'),
        key({
          model: 'm',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', name: 'bob', content: 'q' },
          ],
        }),
      ];
      for (const o of others) expect(o).to.not.equal(k);
      expect(new Set(others).size).to.equal(others.length);
    });

    it('overridesPrompt spots override_params that replace the prompt', () => {
      expect(overridesPrompt(target({ override_params: { model: 'x' } }))).to.equal(false);
      expect(overridesPrompt(target({ override_params: { messages: [] } }))).to.equal(true);
    });
  });
});
