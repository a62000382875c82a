import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import { toChatRequest } from '../src/index.js';

const thrown = (fn: () => unknown): GatewayError => {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('expected a throw');
};

const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  strict: true,
};

describe('@waygate/responses-api: Responses request → chat request', () => {
  it('maps instructions, a string input and the scalar parameters', () => {
    const out = toChatRequest({
      model: 'm',
      instructions: 'Be brief.',
      input: 'Hi',
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      reasoning: { effort: 'low' },
      stream: true,
    });
    expect(out).to.deep.equal({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      reasoning_effort: 'low',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('maps message items with text and images, function calls and their outputs', () => {
    const out = toChatRequest({
      model: 'm',
      input: [
        { role: 'developer', content: 'Rules.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Look:' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
          ],
        },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '3°C' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Cold.' }] },
      ],
    });
    expect(out.messages).to.deep.equal([
      { role: 'system', content: 'Rules.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '3°C' },
      { role: 'assistant', content: 'Cold.' },
    ]);
  });

  it('maps function tools, tool_choice and text.format json_schema', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const out = toChatRequest({
      model: 'm',
      input: 'x',
      tools: [WEATHER],
      tool_choice: { type: 'function', name: 'get_weather' },
      text: { format: { type: 'json_schema', name: 'out', schema, strict: true } },
    });
    expect(out.tools).to.deep.equal([
      { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: WEATHER.parameters, strict: true } },
    ]);
    expect(out.tool_choice).to.deep.equal({ type: 'function', function: { name: 'get_weather' } });
    expect(out.response_format).to.deep.equal({ type: 'json_schema', json_schema: { name: 'out', schema, strict: true } });
  });

  it('refuses built-in tools with a 400 naming the tool', () => {
    const err = thrown(() => toChatRequest({ model: 'm', input: 'x', tools: [WEATHER, { type: 'web_search_preview' }] }));
    expect(err.status).to.equal(400);
    expect(err.message).to.contain('"web_search_preview"').and.contain('built-in');
    expect(err.param).to.equal('tools');
  });

  it('refuses an input that is neither a string nor items', () => {
    expect(thrown(() => toChatRequest({ model: 'm', input: 3 })).status).to.equal(400);
  });
});
