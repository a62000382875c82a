import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import { toChatRequest, reasoningEffort, systemText } from '../src/index.js';
import { WEATHER_TOOL } from './fixtures.js';

const thrown = (fn: () => unknown): GatewayError => {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('expected a throw');
};

describe('@waygate/anthropic-messages: Anthropic request → OpenAI chat request', () => {
  it('maps the scalar parameters, and drops what OpenAI has no name for', () => {
    const out = toChatRequest({
      model: 'gpt-4o-mini',
      max_tokens: 512,
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['###', 'END'],
      metadata: { user_id: 'user-7' },
      service_tier: 'auto',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(out).to.deep.equal({
      model: 'gpt-4o-mini',
      max_tokens: 512,
      temperature: 0.3,
      top_p: 0.9,
      stop: ['###', 'END'],
      user: 'user-7',
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it('turns system (a string, or text blocks with cache_control) into one system message', () => {
    expect(toChatRequest({ model: 'm', max_tokens: 1, system: 'Be brief.', messages: [] }).messages).to.deep.equal([
      { role: 'system', content: 'Be brief.' },
    ]);
    const blocks = [
      { type: 'text', text: 'You are a pirate.' },
      { type: 'text', text: 'Long cached context.', cache_control: { type: 'ephemeral' } },
    ];
    expect(toChatRequest({ model: 'm', max_tokens: 1, system: blocks, messages: [] }).messages).to.deep.equal([
      { role: 'system', content: 'You are a pirate.\n\nLong cached context.' },
    ]);
    expect(systemText(undefined)).to.equal(undefined);
    expect(thrown(() => systemText([{ type: 'image' }])).param).to.equal('system[0]');
  });

  it('turns content blocks into OpenAI parts: text, base64 and url images, documents', () => {
    const out = toChatRequest({
      model: 'm',
      max_tokens: 1,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in ', cache_control: { type: 'ephemeral' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' }, title: 'a.pdf' },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Just ' },
            { type: 'text', text: 'text.' },
          ],
        },
      ],
    });
    expect(out.messages).to.deep.equal([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in ' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0x' } },
          { type: 'text', text: 'plain words' },
        ],
      },
      { role: 'user', content: 'Just text.' },
    ]);
  });

  it('turns tool_use into tool_calls, and tool_result into tool messages that follow them at once', () => {
    const out = toChatRequest({
      model: 'm',
      max_tokens: 1,
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Two tools.', signature: 'sig' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: [
                { type: 'text', text: '14:00' },
                { type: 'image', source: { type: 'url', url: 'https://example.com/clock.png' } },
              ],
              is_error: false,
            },
            { type: 'text', text: 'Summarise.' },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_3', name: 'noop', input: {} }] },
      ],
    });
    expect(out.messages).to.deep.equal([
      { role: 'user', content: 'Weather and time in Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: '14:00' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Summarise.' },
          { type: 'image_url', image_url: { url: 'https://example.com/clock.png' } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_3', type: 'function', function: { name: 'noop', arguments: '{}' } }] },
    ]);
  });

  it('turns tools into function tools and maps every tool_choice', () => {
    const base = {
      model: 'm',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'x' }],
      tools: [WEATHER_TOOL, { name: 'bare', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
    };
    const out = toChatRequest(base);
    expect(out.tools).to.deep.equal([
      { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_TOOL.input_schema } },
      { type: 'function', function: { name: 'bare', parameters: { type: 'object' } } },
    ]);
    expect(out).to.not.have.property('tool_choice');
    const choice = (tc: unknown) => {
      const r = toChatRequest({ ...base, tool_choice: tc });
      return [r.tool_choice, r.parallel_tool_calls];
    };
    expect(choice({ type: 'auto' })).to.deep.equal(['auto', undefined]);
    expect(choice({ type: 'any' })).to.deep.equal(['required', undefined]);
    expect(choice({ type: 'none' })).to.deep.equal(['none', undefined]);
    expect(choice({ type: 'tool', name: 'get_weather' })).to.deep.equal([{ type: 'function', function: { name: 'get_weather' } }, undefined]);
    expect(choice({ type: 'auto', disable_parallel_tool_use: true })).to.deep.equal(['auto', false]);
    expect(thrown(() => choice({ type: 'sometimes' })).param).to.equal('tool_choice.type');
    // No tools, no tool_choice (OpenAI refuses one without the other).
    expect(toChatRequest({ model: 'm', max_tokens: 1, messages: [], tool_choice: { type: 'none' } })).to.not.have.property('tool_choice');
  });

  it('refuses what only Anthropic serves, naming the field, rather than dropping it silently', () => {
    const err = thrown(() => toChatRequest({ model: 'm', max_tokens: 1, messages: [], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }));
    expect(err.status).to.equal(400);
    expect(err.param).to.equal('tools[0].type');
    expect(err.message).to.include('web_search_20250305');
    const block = thrown(() =>
      toChatRequest({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x' }] }] }),
    );
    expect(block.param).to.equal('messages[0].content[0].type');
    const file = thrown(() =>
      toChatRequest({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }),
    );
    expect(file.param).to.equal('messages[0].content[0].source');
    expect(thrown(() => toChatRequest({ model: 'm', max_tokens: 1, messages: [{ role: 'system', content: 'x' }] })).param).to.equal('messages[0].role');
    expect(thrown(() => toChatRequest({ model: 'm', max_tokens: 1 })).param).to.equal('messages');
  });

  it('drops thinking by default, or maps its budget to reasoning_effort when asked', () => {
    const body = { model: 'o4-mini', max_tokens: 20000, messages: [], thinking: { type: 'enabled', budget_tokens: 10000 } };
    expect(toChatRequest(body)).to.not.have.property('reasoning_effort');
    expect(toChatRequest(body, { thinkingToReasoningEffort: true }).reasoning_effort).to.equal('medium');
    expect(toChatRequest({ ...body, thinking: { type: 'disabled' } }, { thinkingToReasoningEffort: true })).to.not.have.property('reasoning_effort');
    expect([reasoningEffort(1024), reasoningEffort(4096), reasoningEffort(16384)]).to.deep.equal(['low', 'medium', 'high']);
  });

  it('asks for a stream with usage', () => {
    const out = toChatRequest({ model: 'm', max_tokens: 1, messages: [], stream: true });
    expect(out).to.include({ stream: true });
    expect(out.stream_options).to.deep.equal({ include_usage: true });
    expect(toChatRequest({ model: 'm', max_tokens: 1, messages: [], stream: false })).to.not.have.property('stream');
  });
});
