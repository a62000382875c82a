import { expect } from 'chai';
import { inputItems } from '../src/index.js';

describe('@waygate/responses-api: input items for storage', () => {
  it('turns a string into one user message item with an id', () => {
    const [item, ...rest] = inputItems('Hi');
    expect(rest).to.have.length(0);
    expect(item).to.deep.include({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] });
    expect(item!.id).to.match(/^msg_/);
  });

  it('keeps ids and types, gives string content parts, and ids the rest', () => {
    const items = inputItems([
      { role: 'assistant', content: 'Before.' },
      { type: 'function_call_output', call_id: 'c1', output: 'x' },
      { type: 'message', id: 'msg_keep', role: 'user', content: [{ type: 'input_text', text: 'a' }] },
    ]);
    expect(items[0]).to.deep.include({
      type: 'message',
      content: [{ type: 'output_text', text: 'Before.', annotations: [], logprobs: [] }],
      status: 'completed',
    });
    expect(items[1]).to.deep.include({ type: 'function_call_output', call_id: 'c1' });
    expect(items[1]!.id).to.match(/^item_/);
    expect(items[2]!.id).to.equal('msg_keep');
  });
});
